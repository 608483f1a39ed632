"""An SFT script with its config written out (modelled on TRL's docs quickstart)."""
from datasets import load_dataset
from trl import SFTConfig, SFTTrainer

dataset = load_dataset("trl-lib/Capybara", split="train")
training_args = SFTConfig(
    output_dir="Qwen2.5-0.5B-SFT",
    max_seq_length=1024,
    packing=True,
    eval_strategy="steps",
    eval_steps=100,
    save_strategy="steps",
    save_steps=250,
    save_total_limit=1,
    load_best_model_at_end=True,
)
trainer = SFTTrainer(model="Qwen/Qwen2.5-0.5B", args=training_args, train_dataset=dataset)
trainer.train()
