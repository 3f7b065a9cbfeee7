"""Tests for translate.segment: sentence rules, run-on splitting, exact offsets."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translate.segment import DEFAULT_MAX_WORDS, Segment, count_words, segment

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
IGNORABLE = "\u0640\u200b\u200c\u200d\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def texts(text: str, max_words: int = 0) -> list[str]:
    return [s.text for s in segment(text, max_words=max_words)]


def check_offsets(text: str, segs: list[Segment]) -> None:
    """The invariants every segmentation must keep."""
    pos = 0
    for seg in segs:
        assert seg.text == text[seg.start : seg.end]
        assert seg.text and seg.text == seg.text.strip()
        assert seg.start >= pos
        pos = seg.end
    covered = "".join(s.text for s in segs)
    assert [c for c in covered if not c.isspace()] == [c for c in text if not c.isspace()]


# --- sentence boundaries -----------------------------------------------------


def test_basic_terminal_punctuation():
    text = "وصل الوفد إلى جنيف. هل تنجح المفاوضات؟ نأمل ذلك! ما العمل?! لا أحد يعرف… انتهى الاجتماع"
    assert texts(text) == [
        "وصل الوفد إلى جنيف.",
        "هل تنجح المفاوضات؟",
        "نأمل ذلك!",
        "ما العمل?!",
        "لا أحد يعرف…",
        "انتهى الاجتماع",
    ]


def test_numbering_of_sentences_and_parts():
    segs = segment("الجملة الأولى. الجملة الثانية.")
    assert [(s.sentence, s.part) for s in segs] == [(0, 0), (1, 0)]


def test_closing_quote_stays_with_its_sentence():
    text = 'وقال "سنواصل دعم الشعب السوري." وتابع كارني حديثه.'
    assert texts(text) == ['وقال "سنواصل دعم الشعب السوري."', "وتابع كارني حديثه."]


def test_closing_curly_quote_and_bracket_stay():
    text = "وقال إنه «يرفض التدخل.» ثم غادر. (وهذا ما حدث فعلا.) وانتهى الأمر."
    assert texts(text) == ["وقال إنه «يرفض التدخل.»", "ثم غادر.", "(وهذا ما حدث فعلا.)", "وانتهى الأمر."]


def test_punctuation_in_an_aside_does_not_end_the_sentence():
    assert len(texts("وقال الوزير (وهذا أمر نادر!) إن الحكومة ستستقيل.")) == 1
    assert len(texts("وتساءل الكاتب عن السبب (؟) دون أن يجيب.")) == 1


def test_full_stop_after_closing_quotes():
    text = "وقالت: 'هل لاحظتم هذا؟'\". ثم انصرفت."
    assert texts(text) == ["وقالت: 'هل لاحظتم هذا؟'\".", "ثم انصرفت."]


def test_ellipsis_inside_quotation_is_not_a_boundary():
    text = 'وقال "في الأيام القادمة سنواصل مناقشاتنا ... لبلورة الخطوات .. انتقال ديمقراطي." وتابع كارني.'
    assert texts(text) == [
        'وقال "في الأيام القادمة سنواصل مناقشاتنا ... لبلورة الخطوات .. انتقال ديمقراطي."',
        "وتابع كارني.",
    ]


def test_ellipsis_outside_quotation_ends_sentence():
    text = "تغيير السلطة بقوة السلاح.. بيومي أكد أيضاً أن الائتلاف تشكل في قطر."
    assert texts(text) == ["تغيير السلطة بقوة السلاح..", "بيومي أكد أيضاً أن الائتلاف تشكل في قطر."]


def test_ellipsis_before_a_continuing_word_is_not_a_boundary():
    assert len(texts("إن ما تقوله وما تفعله... في الواقع أمر لا يصدق.")) == 1
    assert len(texts("الضرائب والنقل إلخ... من أجل جميع الأماكن.")) == 1


def test_sentence_ends_at_closing_quote_before_new_sentence():
    text = 'وقال الوزير "لن نقبل بأي شروط مسبقة على الإطلاق" وأضاف أن الحوار مستمر.'
    assert texts(text) == ['وقال الوزير "لن نقبل بأي شروط مسبقة على الإطلاق"', "وأضاف أن الحوار مستمر."]


def test_closing_quote_inside_a_sentence_does_not_split():
    text = 'أطلق على الهجوم اسم "عملية أسد البحر" وبدأ في الصيف.'
    assert len(texts(text)) == 1


@pytest.mark.parametrize(
    "text",
    [
        "وقال د. ديفيد ريدي إنها كانت مريضة.",
        "حاضر أ. محمد علي في الجامعة.",
        "أشرف م. خالد على المشروع.",
        "انظر ص. 12 من التقرير.",
        "قال أحمد ز. أمين إن الوكالة مستعدة.",
        "عاش عام 3300 ق.م تقريباً في الجبال.",
        "التقى Dr. Smith بالوفد في الصباح.",
        "زار وفد من U.S. Army المنطقة.",
        "هناك أمثلة كثيرة، e.g. the first one is here.",
        "كتبت J. K. Rowling الرواية.",
        "أعلنت شركة HK Management Inc. عن الصفقة.",
    ],
)
def test_abbreviations_and_initials_are_not_boundaries(text):
    assert texts(text) == [text]


def test_era_marker_after_a_year_ends_a_sentence():
    assert len(texts("ولد عام 1950م. وتوفي في القاهرة.")) == 2
    assert len(texts("توفي سنة 1434 هـ. ودفن في مكة.")) == 2


@pytest.mark.parametrize(
    "text",
    [
        "بتكلفة تقدر بـ 7.9 مليارات يورو أي نحو 10.9 مليارات دولار.",
        "بلغ عدد الضحايا 1.000 شخص في المدينة.",
        "ارتفع المؤشر إلى ٧.٩ نقطة ثم إلى ٣٬٥٠٠ و ٧٫٢ بالمئة.",
        "يكتمل المشروع في 12/08/2014 أو في 12.08.2014 على الأرجح.",
        "بدأ الاجتماع الساعة 10.30 صباحاً وانتهى 05:01 GMT.",
        "للمزيد زوروا https://example.com/news/a.b?id=3&x=y ثم تابعوا.",
        "راسلونا على info@example.org أو على www.bbc.co.uk للمزيد.",
    ],
)
def test_numbers_dates_times_urls_emails_are_not_boundaries(text):
    assert texts(text) == [text]


def test_url_at_end_of_sentence():
    assert texts("زوروا www.bbc.co.uk. ثم عودوا.") == ["زوروا www.bbc.co.uk.", "ثم عودوا."]


def test_newline_always_ends_a_sentence():
    text = "اجتماع دولي يدعو إلى وقف إطلاق النار\nأكد الاجتماع دعم الحل السياسي\r\nدعت د.\nمجموعة الدول"
    assert texts(text) == [
        "اجتماع دولي يدعو إلى وقف إطلاق النار",
        "أكد الاجتماع دعم الحل السياسي",
        "دعت د.",
        "مجموعة الدول",
    ]


def test_list_number_at_line_start_is_not_a_boundary():
    assert texts("1. وقف إطلاق النار\n2. إيصال المساعدات") == ["1. وقف إطلاق النار", "2. إيصال المساعدات"]


def test_glued_sentences_are_split():
    assert texts("التنمية المؤسسية المرئية.وتربط الطرق المدن.") == [
        "التنمية المؤسسية المرئية.",
        "وتربط الطرق المدن.",
    ]
    assert texts("ماذا حدث؟كيف حدث؟") == ["ماذا حدث؟", "كيف حدث؟"]


def test_latin_sentences_inside_arabic():
    text = 'قال المتحدث: "We are ready. The talks start on Monday." ثم غادر القاعة.'
    assert texts(text) == ['قال المتحدث: "We are ready.', 'The talks start on Monday."', "ثم غادر القاعة."]


def test_short_quoted_exclamation_is_a_title_not_a_sentence():
    assert len(texts('قال ترامب "Make America great again!" أمام أنصاره.')) == 1
    text = 'وسأله الصحفي "هل ستترشح لولاية ثانية في الانتخابات المقبلة؟" فرفض الرئيس الإجابة.'
    assert len(texts(text)) == 2


def test_comma_or_question_alternative_after_punctuation_continues():
    assert len(texts("من أين تستمد كل هذه الطاقة؟ أو ذلك الصوت القوي؟")) == 1


@pytest.mark.parametrize("mark", list(IGNORABLE))
def test_ignorable_characters_never_break_a_rule(mark):
    base = 'قال د. ديفيد إن الكلفة 7.9 مليار "وستزيد." وتابع السوري.. ثم غادر'
    expected = texts(base)
    for k in range(1, len(base)):
        text = base[:k] + mark + base[k:]
        segs = segment(text, max_words=0)
        check_offsets(text, segs)
        assert [s.text.replace(mark, "").strip() for s in segs] == expected, (k, text)


# --- run-on sentences --------------------------------------------------------


def clause(words: int, first: str = "كلمة") -> str:
    return " ".join([first] + ["كلمة"] * (words - 1))


def test_short_sentence_is_not_split():
    text = clause(40) + "، " + clause(15) + "."
    assert len(segment(text)) == 1


def test_long_sentence_split_after_semicolon_first():
    text = clause(30) + "، " + clause(20) + "؛ " + clause(30) + "، " + clause(20) + "."
    segs = segment(text, max_words=60)
    assert [s.text[-1] for s in segs] == ["؛", "."]
    assert all(s.sentence == 0 for s in segs) and [s.part for s in segs] == [0, 1]


def test_comma_before_connective_preferred_over_plain_comma():
    text = clause(30) + "، " + clause(6) + "، " + clause(28, "حيث") + "."
    segs = segment(text, max_words=60)
    assert len(segs) == 2
    assert segs[1].text.startswith("حيث")
    assert segs[0].text.endswith("،")  # the comma stays with the left part


def test_parts_are_balanced_and_within_limit():
    text = "، ".join(clause(10) for _ in range(12)) + "."  # 120 words, a comma every 10
    segs = segment(text, max_words=60)
    sizes = [count_words(s.text) for s in segs]
    assert sizes == [60, 60]


def test_split_avoids_quotes():
    quoted = '"' + "، ".join(clause(8) for _ in range(4)) + '"'
    text = clause(25) + " " + quoted + "، " + clause(30) + "."
    segs = segment(text, max_words=60)
    assert len(segs) == 2
    assert segs[0].text.endswith('"،')


def test_split_after_a_quote_closed_by_the_comma():
    text = clause(30) + ' "' + clause(25) + '،" ' + clause(30, "وأضاف") + "."
    segs = segment(text, max_words=60)
    assert len(segs) == 2
    assert segs[0].text.endswith('،"')
    assert segs[1].text.startswith("وأضاف")


def test_max_words_zero_disables_splitting():
    text = "، ".join(clause(10) for _ in range(20)) + "."
    assert len(segment(text, max_words=0)) == 1
    assert len(segment(text)) > 1  # DEFAULT_MAX_WORDS applies


def test_no_clause_point_keeps_sentence_whole():
    text = clause(150) + "."
    assert texts(text, max_words=60) == [text]


def test_default_max_words():
    assert DEFAULT_MAX_WORDS == 60


def test_seed_001_run_on_is_split_at_clause_points():
    files = sorted(SEEDS.glob("001_*.txt"))
    if not files:
        pytest.skip("seeds/001_*.txt not found")
    text = files[0].read_text(encoding="utf-8")
    segs = segment(text)
    check_offsets(text, segs)
    assert len(segs) > 1
    assert max(count_words(s.text) for s in segs) <= 80
    for seg, nxt in zip(segs, segs[1:]):
        if nxt.sentence == seg.sentence:
            assert seg.text[-1] in "،؛", seg.text[-30:]


def test_seed_documents_keep_offsets():
    files = sorted(SEEDS.glob("*.txt"))
    if not files:
        pytest.skip("seeds/ not found")
    for path in files:
        text = path.read_text(encoding="utf-8")
        for max_words in (0, DEFAULT_MAX_WORDS, 10):
            check_offsets(text, segment(text, max_words=max_words))


def test_rejects_non_text():
    with pytest.raises(TypeError, match="str"):
        segment(b"\xd9\x85")  # type: ignore[arg-type]


# --- exact offsets for any input --------------------------------------------

ALPHABET = (
    "ابتثجحخدذرزسشصضطظعغفقكلمنهويءأإآةى"
    "abcdeXYZ0123٠١٢٣"
    ".!?؟…،؛,;:\"'“”«»()[]/@-"
    "  \t\n\r\u00a0"
    + IGNORABLE
)
WORDS = ["د.", "U.S.", "7.9", "..", "...", "www.x.org", "قال", "و", "حيث", "، ", '"', "\u200f", "ـ"]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.one_of(st.text(alphabet=ALPHABET, max_size=12), st.sampled_from(WORDS)), max_size=40),
    st.sampled_from([0, 1, 3, 60]),
)
def test_offsets_are_exact_for_any_input(pieces, max_words):
    text = "".join(pieces)
    segs = segment(text, max_words=max_words)
    check_offsets(text, segs)
    numbers = [(s.sentence, s.part) for s in segs]
    assert numbers == sorted(numbers)
    if segs:
        assert segs[0].sentence == 0 and segs[0].part == 0
    for (s1, p1), (s2, p2) in zip(numbers, numbers[1:]):
        assert (s2 == s1 and p2 == p1 + 1) or (s2 == s1 + 1 and p2 == 0)


def test_whitespace_only_gives_no_segments():
    assert segment(" \n\t\u00a0 ") == []
    assert segment("") == []


def test_segments_never_contain_a_line_break():
    text = "سطر أول\nسطر ثان، بلا نقطة\n\nسطر ثالث."
    for seg in segment(text, max_words=0):
        assert not re.search(r"[\n\r]", seg.text)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=25),
    st.sampled_from(["، ", "؛ ", ", "]),
    st.integers(min_value=30, max_value=80),
)
def test_parts_within_limit_whenever_clause_points_allow(clause_sizes, separator, max_words):
    text = separator.join(clause(size) for size in clause_sizes) + "."
    segs = segment(text, max_words=max_words)
    check_offsets(text, segs)
    assert {s.sentence for s in segs} == {0}
    assert max(count_words(s.text) for s in segs) <= max_words
    for seg in segs[:-1]:
        assert seg.text[-1] == separator[0]


def test_ignorable_characters_stay_with_the_adjacent_word():
    assert texts("قال.\u200f وتابع.") == ["قال.\u200f", "وتابع."]
    assert texts("قال.\n\u200fوتابع.") == ["قال.", "\u200fوتابع."]
    assert texts("قال. \u202bوتابع\u202c.") == ["قال.", "\u202bوتابع\u202c."]


def test_run_on_without_commas_is_cut_before_a_connective_word():
    first = " ".join(["قصفت القوات مواقع المسلحين في المنطقة الشمالية"] * 6)
    second = " ".join(["أن الوضع الإنساني يتدهور في المدينة بسرعة"] * 6)
    text = f"{first} وأضاف المتحدث {second}."
    parts = texts(text, max_words=60)
    assert parts == [first, f"وأضاف المتحدث {second}."]
    # a comma-free sentence with no such word stays whole, as before
    assert texts(f"{first} {second}.", max_words=60) == [f"{first} {second}."]


def test_comma_split_is_preferred_to_a_bare_connective():
    left = " ".join(["قصفت القوات مواقع المسلحين"] * 8)
    text = f"{left}، وقالت مصادر {left} حيث {left}."
    parts = texts(text, max_words=80)
    assert parts[0] == f"{left}،"
