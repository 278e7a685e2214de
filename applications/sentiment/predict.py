"""Print the label and probability of each text.

    python -m applications.sentiment.predict "a gripping, funny film" "dull"
    echo "a text per line" | python -m applications.sentiment.predict -
"""

from applications.sentiment import APPLICATION
from zoo.cli import user_main

if __name__ == "__main__":
    user_main(APPLICATION)
