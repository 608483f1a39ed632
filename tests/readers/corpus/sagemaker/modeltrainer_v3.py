"""SageMaker Python SDK v3: ModelTrainer with config objects (modelled on the SDK v3 examples)."""
from sagemaker.core.shapes import CheckpointConfig, OutputDataConfig, StoppingCondition
from sagemaker.train import ModelTrainer
from sagemaker.train.configs import Compute, SourceCode

image = "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-training:2.1.0-transformers4.36.0-gpu-py310-cu121-ubuntu20.04"

trainer = ModelTrainer(
    training_image=image,
    source_code=SourceCode(source_dir="src", entry_script="train.py"),
    compute=Compute(
        instance_type="ml.g5.12xlarge",
        instance_count=1,
        volume_size_in_gb=200,
        enable_managed_spot_training=True,
    ),
    stopping_condition=StoppingCondition(
        max_runtime_in_seconds=86400,
        max_wait_time_in_seconds=172800,
    ),
    checkpoint_config=CheckpointConfig(
        s3_uri="s3://my-bucket/qwen-sft/checkpoints",
        local_path="/opt/ml/checkpoints",
    ),
    output_data_config=OutputDataConfig(s3_output_path="s3://my-bucket/qwen-sft/output"),
    role="arn:aws:iam::123456789012:role/SageMakerTraining",
    hyperparameters={"model_name_or_path": "Qwen/Qwen2.5-7B"},
    base_job_name="qwen-sft",
)
trainer.train()
