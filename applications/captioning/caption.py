"""`python -m applications.captioning.caption IMAGE... [--out overlay.png]`"""

from applications.captioning import APPLICATION
from zoo.cli import user_main

if __name__ == "__main__":
    user_main(APPLICATION)
