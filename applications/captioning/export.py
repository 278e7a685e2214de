"""`python -m applications.captioning.export --help`"""

from applications.captioning import APPLICATION
from zoo.cli import export_main

if __name__ == "__main__":
    export_main(APPLICATION)
