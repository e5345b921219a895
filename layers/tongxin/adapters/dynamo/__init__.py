"""DynamoDB through PynamoDB: models, binding to a stage, transactions with mapped failures."""
