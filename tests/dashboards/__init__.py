"""Tests of the Grafana dashboards, their pictures and their provisioning."""
