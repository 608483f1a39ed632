"""Entry script of launch_spot_sft.py: the SageMaker estimator passes hyperparameters as --key value."""
import argparse
import os

from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, Trainer, TrainingArguments


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model_id", type=str)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--per_device_train_batch_size", type=int, default=1)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--output_dir", type=str, default="/opt/ml/checkpoints")
    parser.add_argument("--train_dir", type=str, default=os.environ.get("SM_CHANNEL_TRAINING"))
    args, _ = parser.parse_known_args()
    return args


def main():
    args = parse_args()
    model = AutoModelForCausalLM.from_pretrained(args.model_id)
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=["q_proj", "v_proj"]))
    training_args = TrainingArguments(
        output_dir=args.output_dir,
        num_train_epochs=args.epochs,
        per_device_train_batch_size=args.per_device_train_batch_size,
        learning_rate=args.lr,
        save_strategy="steps",
        save_steps=500,
        logging_steps=10,
    )
    Trainer(model=model, args=training_args).train()
    model.save_pretrained(os.environ["SM_MODEL_DIR"])


if __name__ == "__main__":
    main()
