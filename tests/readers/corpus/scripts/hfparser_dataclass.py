"""HfArgumentParser over a script dataclass and TrainingArguments (transformers examples pattern)."""
from dataclasses import dataclass, field

from transformers import AutoModelForCausalLM, HfArgumentParser, TrainingArguments


@dataclass
class ModelArguments:
    model_name_or_path: str = field(default="Qwen/Qwen2.5-1.5B")
    max_length: int = 512


def main():
    parser = HfArgumentParser((ModelArguments, TrainingArguments))
    model_args, training_args = parser.parse_args_into_dataclasses()
    model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path)
    return model, training_args


if __name__ == "__main__":
    main()
