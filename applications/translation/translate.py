"""Translate sentences with the shipped (or given) weights.

    python -m applications.translation.translate "In the beginning was the Word."
    echo "one sentence per line" | python -m applications.translation.translate -
    python -m applications.translation.translate --greedy "And God said"
    python -m applications.translation.translate --json - "And God said"
"""

from applications.translation import APPLICATION
from zoo.cli import user_main

if __name__ == "__main__":
    user_main(APPLICATION)
