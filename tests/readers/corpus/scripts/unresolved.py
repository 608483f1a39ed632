"""Values that only exist at run time: the reader must say so instead of guessing."""
import json
import sys

from transformers import TrainingArguments

config = json.load(open(sys.argv[1]))


def pick_dir():
    return config["output_dir"]


training_args = TrainingArguments(
    output_dir=pick_dir(),
    save_total_limit=config["keep"],
    save_steps=500,
    **config["extra"],
)
