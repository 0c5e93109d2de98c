import json
import os
import subprocess
import sys

import numpy as np

from archive import copies
from archive.home import Archive
from archive.model import Article


def add(archive: Archive, *records: dict) -> None:
    archive.add_articles([Article.from_record(r) for r in records])


def test_a_dispatch_and_its_edited_copy_form_one_cluster(archive, wire_records):
    add(archive, *wire_records)
    (cluster,) = archive.store.duplicates()
    assert cluster.ids == ("afp-traore", "copie-traore")
    assert cluster.similarity == 0.84375  # 108 of 128 MinHash values agree
    assert archive.store.clusters() == {"afp-traore": "afp-traore", "copie-traore": "afp-traore"}
    assert archive.store.copies_of(["copie-traore", "marche-traore"]) == {"copie-traore": ["afp-traore"]}


def test_an_article_on_the_same_subject_is_not_a_copy(archive, wire_records):
    dispatch, _, same_subject = wire_records
    add(archive, dispatch, same_subject)
    assert archive.store.duplicates() == []
    a, b = (copies.signature(Article.from_record(r)) for r in (dispatch, same_subject))
    assert copies.similarity(a, b) == 0.0


def test_clusters_follow_updates_and_removals(archive, wire_records):
    dispatch, copy, same_subject = wire_records
    add(archive, dispatch, copy)
    add(archive, dict(copy, paragraphs=same_subject["paragraphs"]))  # rewritten: no longer a copy
    assert archive.store.duplicates() == []
    add(archive, copy)
    assert [c.ids for c in archive.store.duplicates()] == [("afp-traore", "copie-traore")]
    archive.remove(["afp-traore"])
    assert archive.store.duplicates() == [] and archive.store.clusters() == {}


def test_three_copies_merge_and_rebuild_gives_the_same_clusters(archive, wire_records):
    dispatch, copy, _ = wire_records
    third = dict(copy, id="troisieme", source="20 Minutes")
    add(archive, dispatch, copy, third)
    before = archive.store.duplicates()
    assert [c.ids for c in before] == [("afp-traore", "copie-traore", "troisieme")]
    archive.store.db.execute("DELETE FROM copies")
    assert archive.store.recluster() == 1
    assert archive.store.duplicates() == before


def test_short_texts_get_no_signature():
    brief = Article.from_record({"id": "b", "title": "Brève", "paragraphs": ["Il pleut à Brest."]})
    assert copies.signature(brief) is None


def test_detection_can_be_switched_off(home, wire_records):
    archive = Archive(home, detect_copies=False)
    add(archive, *wire_records)
    assert archive.store.duplicates() == []
    assert archive.store.recluster() == 1


def test_signature_is_stable_across_processes(wire_records):
    # Signatures are stored: they must not depend on Python's per-process hash seed.
    sig = copies.signature(Article.from_record(wire_records[0]))
    assert sig.dtype == np.uint32 and sig.shape == (copies.NUM_PERM,)
    code = ("import json, sys; from archive import copies; from archive.model import Article; "
            "print(copies.signature(Article.from_record(json.load(sys.stdin))).tobytes().hex())")
    other = subprocess.run([sys.executable, "-c", code], input=json.dumps(wire_records[0]), text=True,
                           capture_output=True, check=True, env={**os.environ, "PYTHONHASHSEED": "7"})
    assert other.stdout.strip() == sig.tobytes().hex()
