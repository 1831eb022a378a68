"""The Restore phase: restorer backends conditioned on a `rnr.Diagnosis`."""
