"""`python -m applications.translation.export --help`"""

from applications.translation import APPLICATION
from zoo.cli import export_main

if __name__ == "__main__":
    export_main(APPLICATION)
