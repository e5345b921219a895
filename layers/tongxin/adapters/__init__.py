"""Adapters at the edge: DynamoDB (``dynamo``) and WeChat (``wechat``), plus QR rendering."""
