"""Everything that knows the Easee cloud: observations, decoding, REST client, stream.

The rest of the service sees only the typed values of :mod:`exporter.easee.models` and the
typed errors of this package, never Easee's wire formats.
"""
