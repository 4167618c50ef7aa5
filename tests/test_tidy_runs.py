"""A test run keeps what it writes in the tests' data folder and prunes it when the next run
starts: nothing lands in the system's temporary folder."""

import os
import tempfile
from pathlib import Path

from django.conf import settings


def test_temporary_folders_live_in_the_test_data_folder(tmp_path_factory, tmp_path):
    data = Path(settings.DATA_DIR)
    assert tmp_path_factory.getbasetemp() == data / "pytest"
    assert tmp_path.is_relative_to(data / "pytest")
    assert not tmp_path.is_relative_to(tempfile.gettempdir())


def test_the_hf_client_caches_in_the_test_data_folder():
    from huggingface_hub import constants

    hf_home = Path(settings.DATA_DIR) / "hf-home"
    assert os.environ["HF_HOME"] == str(hf_home)
    assert Path(constants.HF_HOME) == hf_home
    assert Path(constants.HF_HUB_CACHE) == hf_home / "hub"
