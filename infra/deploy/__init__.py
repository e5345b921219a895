"""Building and deploying: the SAM template generator and its checks, the layer build, samconfig, the smoke test of
a deployed stage, restoring tables from a point in time, the certificate font."""
