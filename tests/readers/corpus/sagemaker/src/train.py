"""Entry script of modeltrainer_v3.py: TRL SFT with a config copied from an older blog post."""
from datasets import load_dataset
from trl import SFTConfig, SFTTrainer

dataset = load_dataset("json", data_files="/opt/ml/input/data/train/train.jsonl", split="train")

config = SFTConfig(
    output_dir="/opt/ml/checkpoints",
    max_seq_length=2048,
    packing=True,
    per_device_train_batch_size=2,
    gradient_accumulation_steps=8,
    save_strategy="steps",
    save_steps=200,
    bf16=True,
    enable_jit_checkpoint=True,
)
trainer = SFTTrainer(model="Qwen/Qwen2.5-7B", args=config, train_dataset=dataset)
trainer.train()
