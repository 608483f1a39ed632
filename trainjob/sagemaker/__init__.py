"""trainjob's SageMaker side: the gated launch, the container entry point, and the job's watch.

Nothing here imports boto3 or the sagemaker SDK at module level: the request is computed from the
plan as plain data (``request.plan_launch``), and only ``submit``, ``watch`` (its poller),
``alarms`` and ``checkpoint_audit`` (for S3) reach AWS, through clients passed in or built lazily.
"""
