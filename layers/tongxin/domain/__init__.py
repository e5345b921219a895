"""The domain: pure rules and data, no I/O (no boto3, no wechatpy, no clock reads except via arguments)."""
