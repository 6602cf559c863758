"""Tests for d2lnotes.hub, d2l's data hub as both d2l generations call it: files served on 127.0.0.1, never
fetched from the internet."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import zipfile

import pandas as pd
import pytest

import d2lnotes as d2l
from d2lnotes.downloads import DownloadFailed

HOUSES = "Id,MSSubClass,LotArea,SalePrice\n1,60,8450,208500\n2,20,9600,181500\n3,60,11250,223500\n"


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def zipped(name: str, text: str) -> bytes:
    """Return a zip archive holding one file ``name`` with ``text``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture
def hub(mirror, monkeypatch):
    """Serve a house-price CSV and a zipped folder under /d2l-data/, registered in DATA_HUB the d2l 0.17 way."""
    csv, archive = HOUSES.encode(), zipped("house_tiny/data.csv", HOUSES)
    mirror.files["/d2l-data/kaggle_house_pred_train.csv"] = csv
    mirror.files["/d2l-data/house_tiny.zip"] = archive
    monkeypatch.setitem(d2l.DATA_HUB, "kaggle_house_train",
                        (mirror.url("/d2l-data/") + "kaggle_house_pred_train.csv", sha1(csv)))
    monkeypatch.setitem(d2l.DATA_HUB, "house_tiny", (mirror.url("/d2l-data/") + "house_tiny.zip", sha1(archive)))
    return mirror


def test_d2l_0_17_kaggle_download_reads_with_pandas_and_is_not_fetched_twice(hub, data_root):
    train_data = pd.read_csv(d2l.download("kaggle_house_train"))
    assert train_data.shape == (3, 4) and list(train_data.iloc[0:2, [0, 1, 2, -1]].SalePrice) == [208500, 181500]
    d2l.download("kaggle_house_train")  # already there, its sha1 matches: no second request
    assert [p for p, _ in hub.requests] == ["/d2l-data/kaggle_house_pred_train.csv"]
    assert os.path.dirname(d2l.download("kaggle_house_train")) == str(data_root)


def test_d2l_0_17_download_extract_returns_the_extracted_folder(hub, data_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data_dir = d2l.download_extract("house_tiny")
    assert pd.read_csv(os.path.join(data_dir, "data.csv")).shape == (3, 4)


def test_d2l_1_0_download_of_a_url_into_a_folder_with_a_sha1(hub, tmp_path):
    url = hub.url("/d2l-data/") + "house_tiny.zip"
    fname = d2l.download(url, str(tmp_path / "data"), sha1(hub.files["/d2l-data/house_tiny.zip"]))
    assert fname == str(tmp_path / "data" / "house_tiny.zip")
    d2l.extract(fname)
    assert (tmp_path / "data" / "house_tiny" / "data.csv").read_text() == HOUSES


def test_a_file_whose_sha1_does_not_match_is_refused(hub, tmp_path):
    url = hub.url("/d2l-data/") + "kaggle_house_pred_train.csv"
    with pytest.raises(DownloadFailed, match="sha1 [0-9a-f]{40}, expected 0{40}"):
        d2l.download(url, tmp_path, "0" * 40)
    assert [p.name for p in tmp_path.iterdir()] == [".locks"]  # nothing half-written left behind


def test_offline_the_error_names_the_url_and_where_to_put_the_file(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/kaggle_house_pred_test.csv"
    with pytest.raises(DownloadFailed) as err:
        d2l.download(url, tmp_path)
    assert str(err.value).startswith(f"Cannot download {url}: cannot connect")
    assert str(tmp_path / "kaggle_house_pred_test.csv") in str(err.value)
    (tmp_path / "kaggle_house_pred_test.csv").write_text(HOUSES)  # placed by hand: used as it is
    assert d2l.download(url, tmp_path) == str(tmp_path / "kaggle_house_pred_test.csv")


def test_an_unknown_name_says_how_to_register_it(data_root):
    with pytest.raises(KeyError, match=r"DATA_HUB\[name\] = \(url, sha1\)"):
        d2l.download("no_such_dataset")

