"""A user's own TRL SFT script, as it would be without trainjob: chat data (``messages``), a
LoRA adapter, SFTTrainer. The exec tests run it under ``trainjob exec`` unchanged.

Usage: python sft_chat.py MODEL_DIR DATA.jsonl OUTPUT_DIR MAX_STEPS [--sleep S] [--protect]
(``--protect`` adds the one-line library call instead of relying on exec's hook.)
"""

import sys
import time

from datasets import load_dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
from trl import SFTConfig, SFTTrainer

model_dir, data, output_dir, max_steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sleep = float(sys.argv[sys.argv.index("--sleep") + 1]) if "--sleep" in sys.argv else 0.0


class Slow(TrainerCallback):
    """Makes a step long enough for a signal to land mid-step (the tiny model is too fast)."""

    def on_step_end(self, args, state, control, **kwargs):
        time.sleep(sleep)


model = AutoModelForCausalLM.from_pretrained(model_dir)
tokenizer = AutoTokenizer.from_pretrained(model_dir)
dataset = load_dataset("json", data_files=data, split="train")
config = SFTConfig(
    output_dir=output_dir,
    max_steps=max_steps,
    per_device_train_batch_size=4,
    learning_rate=2e-3,
    logging_steps=1,
    save_strategy="steps",
    save_steps=4,
    seed=11,
    max_length=48,
    report_to="none",
    use_cpu=True,
    disable_tqdm=True,
    dataloader_num_workers=0,
)
lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.1, target_modules=["q_proj", "v_proj"])
trainer = SFTTrainer(
    model=model,
    args=config,
    train_dataset=dataset,
    processing_class=tokenizer,
    peft_config=lora,
    callbacks=[Slow()] if sleep else None,
)
if "--protect" in sys.argv:
    from trainjob import protect

    protect(trainer)
trainer.train()
trainer.save_model(output_dir + "/user-final")
print("USER SCRIPT DONE", trainer.state.global_step)
