"""DynamoDB access shared by every capability's adapters (the one place that speaks boto3)."""
