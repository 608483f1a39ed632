"""A generic Estimator whose entry script is not in this repository: hyperparameters only."""
from sagemaker.estimator import Estimator

estimator = Estimator(
    image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/my-trainer:latest",
    role="arn:aws:iam::123456789012:role/SageMakerTraining",
    instance_type="ml.g5.xlarge",
    instance_count=1,
    volume_size=100,
    max_run=2 * 24 * 3600,
    output_path="s3://my-bucket/output",
    checkpoint_s3_uri="s3://my-bucket/checkpoints",
    hyperparameters={
        "output_dir": "/opt/ml/checkpoints",
        "eval_strategy": "steps",
        "eval_steps": 200,
        "save_strategy": "epoch",
        "save_total_limit": 1,
        "load_best_model_at_end": True,
    },
)
estimator.fit()
