"""The local stack: DynamoDB Local, tables from template.yaml, and an HTTP API stand-in.

Dev/test tooling only; never packaged into a Lambda layer.
"""
