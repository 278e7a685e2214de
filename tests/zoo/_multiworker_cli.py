"""One worker of an application's `train` command, for tests/zoo/test_distribute.py.

    python -m tests.zoo._multiworker_cli KEEP_DIR APPLICATION_MODULE TRAIN_ARGS...

Runs `zoo.cli.train_main(APPLICATION, TRAIN_ARGS)` exactly as
`python -m applications.<name>.train TRAIN_ARGS` does (the cluster comes
from `TF_CONFIG`). A non-chief worker writes its checkpoints into a temporary
directory (`zoo.training.distribute.worker_dir`) deleted at exit; to let the
test compare them with the chief's, this copies that directory into
KEEP_DIR/files once training returns and records its path in
KEEP_DIR/worker_dir.txt (the test checks it is gone after exit). Nothing of
the training itself is changed.
"""

import importlib
import os
import shutil
import sys


def main():
    keep, module, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    from zoo import cli
    from zoo.training import distribute

    original = distribute.worker_dir
    used = []

    def recording_worker_dir(path, strategy):
        used.append(original(path, strategy))
        return used[-1]

    distribute.worker_dir = recording_worker_dir
    application = importlib.import_module(module).APPLICATION
    cli.train_main(application, argv)
    os.makedirs(keep, exist_ok=True)
    (directory,) = used
    with open(os.path.join(keep, "worker_dir.txt"), "w") as f:
        f.write(directory)
    shutil.copytree(directory, os.path.join(keep, "files"))


if __name__ == "__main__":
    main()
