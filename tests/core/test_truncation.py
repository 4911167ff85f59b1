"""Every compressed reader notices a cut file: complete records before the cut are kept, the cut
is counted once as errored (`truncated`), naming the file and the last complete line or record."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import random

import pytest
import zstandard

from corpuskit.document import CorpusError, Document, Rejected
from corpuskit.files import TruncatedError, open_binary
from corpuskit.readers import iter_texts, reader_for
from corpuskit.readers.warc import WarcReader

COMPRESS = {
    ".gz": gzip.compress,
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
    ".zst": lambda data: zstandard.ZstdCompressor().compress(data),
}
CUTS = (0.02, 0.3, 0.61, 0.95, 0.999)


def _lines(n: int = 3000) -> list[str]:
    rng = random.Random(7)
    words = ["alpha", "beta", "gamma", "delta", "river", "bridge", "council", "Monday", "über", "三"]
    return [f"{i} " + " ".join(rng.choice(words) for _ in range(rng.randint(3, 40))) for i in range(n)]


@pytest.mark.parametrize("suffix", sorted(COMPRESS))
@pytest.mark.parametrize("kind", [".txt", ".jsonl"])
def test_cut_compressed_text_and_jsonl_keep_whole_records_and_count_the_cut_once(tmp_path, suffix, kind):
    lines = _lines()
    rows = lines if kind == ".txt" else [json.dumps({"text": line}) for line in lines]
    data = COMPRESS[suffix](("\n".join(rows) + "\n").encode())
    whole = tmp_path / f"whole{kind}{suffix}"
    whole.write_bytes(data)
    assert [d.text for d in reader_for(whole).read(str(whole))] == lines
    for cut in CUTS:
        path = tmp_path / f"cut{kind}{suffix}"
        path.write_bytes(data[: int(len(data) * cut)])
        items = list(reader_for(path).read(str(path)))
        docs = [i.text for i in items if isinstance(i, Document)]
        rejected = [i for i in items if isinstance(i, Rejected)]
        assert docs == lines[: len(docs)], f"{suffix} cut at {cut}: a partial line became a document"
        assert len(rejected) == 1 and rejected[0].errored and rejected[0].reason == "truncated", (cut, rejected)
        assert rejected[0].where == f"{path}:{len(docs) + 1}"
        assert f"last complete record: {'line ' + str(len(docs)) if docs else 'none'}" in rejected[0].detail


def test_multi_frame_zstd_reads_every_frame_and_a_cut_in_the_second_is_noticed(tmp_path):
    first, second = b"one\ntwo\n", b"three\nfour\n"
    data = zstandard.ZstdCompressor().compress(first) + zstandard.ZstdCompressor().compress(second)
    path = tmp_path / "frames.txt.zst"
    path.write_bytes(data)
    with open_binary(path) as handle:
        assert handle.read() == first + second
    path.write_bytes(data[:-3])
    with open_binary(path) as handle, pytest.raises(TruncatedError):
        handle.read()
    path.write_bytes(b"")
    with open_binary(path) as handle:
        assert handle.read() == b""


def test_a_stream_zstd_without_content_size_is_read_in_full(tmp_path):
    payload = ("\n".join(_lines(20000)) + "\n").encode()
    compressor = zstandard.ZstdCompressor()
    chunker = compressor.chunker(chunk_size=4096)
    data = b"".join(list(chunker.compress(payload)) + list(chunker.finish()))
    path = tmp_path / "stream.txt.zst"
    path.write_bytes(data)
    with open_binary(path) as handle:
        assert handle.read() == payload


def test_trainers_reading_a_cut_file_raise_naming_it_or_skip_it(tmp_path):
    from corpuskit.tokenizers.trainers import ByteLevelBPETrainer

    data = COMPRESS[".zst"](("\n".join(_lines()) + "\n").encode())
    path = tmp_path / "corpus.txt.zst"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorpusError, match=r"corpus\.txt\.zst:\d+: truncated"):
        ByteLevelBPETrainer(vocab_size=300).train_files(str(path))
    kept = list(iter_texts(str(path), on_error="skip"))
    assert kept == _lines()[: len(kept)]


def _warc_bytes(tmp_path) -> bytes:
    from corpuskit.quickstart.sample import write_warc

    path = tmp_path / "full.warc.gz"
    texts = [f"Story {i}. " + "The council met on Monday to discuss the new bridge over the river. " * 5 for i in range(8)]
    write_warc(path, texts, random.Random(1))
    return path.read_bytes()


@pytest.mark.parametrize("suffix", ["", ".gz", ".zst", ".bz2", ".xz"])
def test_cut_warc_is_counted_once_in_every_compression(tmp_path, suffix):
    gz = _warc_bytes(tmp_path)
    data = gz if suffix == ".gz" else (COMPRESS[suffix](gzip.decompress(gz)) if suffix else gzip.decompress(gz))
    whole = tmp_path / f"whole.warc{suffix}"
    whole.write_bytes(data)
    full = list(WarcReader().read(str(whole)))
    texts = [d.text for d in full if isinstance(d, Document)]
    assert len(texts) == 8 and not any(isinstance(i, Rejected) and i.errored for i in full)
    for cut in (0.05, 0.2, 0.35, 0.5, 0.66, 0.8, 0.93, 0.999):
        path = tmp_path / f"cut.warc{suffix}"
        path.write_bytes(data[: int(len(data) * cut)])
        items = list(WarcReader().read(str(path)))
        docs = [i.text for i in items if isinstance(i, Document)]
        errored = [i for i in items if isinstance(i, Rejected) and i.errored]
        assert docs == texts[: len(docs)]
        assert len(errored) == 1 and errored[0].reason == "warc_truncated", (suffix, cut, errored)
        assert errored[0].where.startswith(f"{path}@")


def test_cut_wiki_dump_is_truncated_not_malformed(tmp_path):
    page = "<page><title>T{0}</title><ns>0</ns><id>{0}</id><revision><text>Body of page {0} with words.</text></revision></page>"
    xml = "<mediawiki>" + "".join(page.format(i) for i in range(2000)) + "</mediawiki>"
    data = bz2.compress(xml.encode())
    path = tmp_path / "cut.xml.bz2"
    path.write_bytes(data[: len(data) // 2])
    items = list(reader_for(path).read(str(path)))
    assert isinstance(items[-1], Rejected) and items[-1].reason == "truncated" and items[-1].errored
