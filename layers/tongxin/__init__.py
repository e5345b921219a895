"""Tongxin (同心): the shared package of the community-governance backend.

Layers, innermost first:
- ``domain``: states, rules, arithmetic and errors. Pure Python, no I/O.
- ``adapters``: DynamoDB (PynamoDB models, transactions) and WeChat (wechatpy).
- ``usecases``: one module per area, joining domain rules to adapters.
- ``wiring``: the one place that builds adapters from configuration.
"""
