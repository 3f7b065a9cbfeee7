"""The error classes of issue 24 (item 5), each with cases that must stay whole and cases that must split.

Every case was written for this file (none is copied from a corpus). "Stays whole" means the
segmenter returns the text as one sentence; "splits" gives the exact sentences expected.
"""
from __future__ import annotations

import json

import pytest
from conftest import run_cli

from translate.segment import segment


def sentences(text: str) -> list[str]:
    return [s.text for s in segment(text, max_words=0)]


def assert_whole(text: str) -> None:
    assert sentences(text) == [text]


# --- Latin letters spelt in Arabic script: initials and "v." -----------------


@pytest.mark.parametrize(
    "text",
    [
        "نظرت المحكمة العليا في قضية روي في. واد عام 1973 وأصدرت حكمها.",
        "استشهد المحامي بقضية براون في. مجلس التعليم أمام القاضي.",
        "قاد فريق البحث العالم الهندي دي. كي. أريا منذ سنوات.",
        "كتب الرواية إتش. جي. ويلز في لندن.",
        "قالت شبكة سي. إن. إن. إن الرئيس سيزور المنطقة.",
        "فاز جورج دبليو. بوش بالانتخابات.",
        "وقع العقد المدير إم. كاي. ساندرز أمس.",
        "أسس المصرف جي. بي. مورغان قبل قرن.",
    ],
)
def test_letter_names_as_initials_do_not_end_a_sentence(text):
    assert_whole(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("لم يعد أحد يثق في. لذلك قرر الرحيل.", ["لم يعد أحد يثق في.", "لذلك قرر الرحيل."]),
        ("قالت إنها لم تعد تثق في. وأضافت أنها ستغادر البلاد.",
         ["قالت إنها لم تعد تثق في.", "وأضافت أنها ستغادر البلاد."]),
        ("مر الموكب بي. ثم اختفى في الزحام.", ["مر الموكب بي.", "ثم اختفى في الزحام."]),
        ("تحمل الشاحنة الحرف سي. والحكومة تنفي ذلك.", ["تحمل الشاحنة الحرف سي.", "والحكومة تنفي ذلك."]),
        ("ينصح الأطباء بتناول فيتامين دي. الشمس مصدره الأول.",
         ["ينصح الأطباء بتناول فيتامين دي.", "الشمس مصدره الأول."]),
        # letter names that are also Arabic words end a sentence unless other initials stand beside them
        ("طلبت منه أن يتصل بي. نعرف الآن السبب.", ["طلبت منه أن يتصل بي.", "نعرف الآن السبب."]),
        ("تبلغ مساحة المزرعة 400 آر. تزرع كلها قمحا.", ["تبلغ مساحة المزرعة 400 آر.", "تزرع كلها قمحا."]),
    ],
)
def test_a_letter_name_before_a_sentence_opener_ends_the_sentence(text, expected):
    assert sentences(text) == expected


# --- era and time markers after a number, and إلخ --------------------------


@pytest.mark.parametrize(
    "text",
    [
        "افتتح المتحف عام 2010 م. في القاهرة بحضور الوزير.",
        "افتتح المتحف عام 2010م. في حفل كبير.",
        "بنيت المدينة نحو عام 3300 ق.م. في وادي النيل.",
        "بنيت المدينة نحو عام 3300 ق. م. على ضفة النهر.",
        "يعود القصر إلى عام 1434 هـ. الموافق 2013 م. تقريبا.",
        "تنطلق الرحلة الساعة 3:45 م. بتوقيت مكة المكرمة.",
        "تبدأ الجلسة الساعة 10 ص. في القاعة الكبرى.",
        "تبدأ الجلسة الساعة ١٠ ص. عند الباب الرئيسي.",
        "راجع المجلد 3 ص. 45 من الكتاب.",
        "تشمل الضرائب الدخل والمبيعات إلخ. في معظم الدول.",
        "تستورد البلاد القمح والذرة الخ. من الخارج.",
    ],
)
def test_markers_before_a_continuing_word_do_not_end_a_sentence(text):
    assert_whole(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ولد الشاعر عام 1950م. وتوفي في القاهرة.", ["ولد الشاعر عام 1950م.", "وتوفي في القاهرة."]),
        ("توفي سنة 1434 هـ. ودفن في مكة.", ["توفي سنة 1434 هـ.", "ودفن في مكة."]),
        ("بنيت المدينة عام 3300 ق.م. وكانت عاصمة للمملكة.",
         ["بنيت المدينة عام 3300 ق.م.", "وكانت عاصمة للمملكة."]),
        ("كان ذلك في القرن الخامس ق.م. ثم انهارت المملكة.",
         ["كان ذلك في القرن الخامس ق.م.", "ثم انهارت المملكة."]),
        ("وصلت الطائرة الساعة 3:45 م. وكان الوزير في استقبالها.",
         ["وصلت الطائرة الساعة 3:45 م.", "وكان الوزير في استقبالها."]),
        ("انتهى الاجتماع الساعة 9 ص. وغادر الوفد.", ["انتهى الاجتماع الساعة 9 ص.", "وغادر الوفد."]),
        # a preposition that opens a set phrase opens the next sentence
        ("زار الوفد القاهرة عام 2015م. من جهته، قال الوزير إن الزيارة ناجحة.",
         ["زار الوفد القاهرة عام 2015م.", "من جهته، قال الوزير إن الزيارة ناجحة."]),
        ("حدث ذلك عام 2010م. في المقابل، تراجعت الصادرات.",
         ["حدث ذلك عام 2010م.", "في المقابل، تراجعت الصادرات."]),
        ("تشمل الضرائب الدخل والمبيعات إلخ. وقال الوزير إن الإصلاح قادم.",
         ["تشمل الضرائب الدخل والمبيعات إلخ.", "وقال الوزير إن الإصلاح قادم."]),
    ],
)
def test_markers_at_a_real_sentence_end_still_end_it(text, expected):
    assert sentences(text) == expected


def test_common_arabic_abbreviations_are_not_sentence_ends():
    for text in [
        "وقال د. أحمد خليل إن الوضع مستقر.",
        "أشرف م. سامي على بناء الجسر.",
        "حاضر أ.د. سعيد في المؤتمر.",
        "أرسلوا الطلبات إلى ص.ب. 1234 في عمان.",
    ]:
        assert_whole(text)


# --- inline list numbering ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "ضمت الحكومة الجديدة: 1. وزير المالية 2. وزير الخارجية 3. وزير الداخلية.",
        "حدد البيان أولويات: ١. وقف القتال ٢. فتح المعابر.",
        "تضمنت الشروط (1. الانسحاب 2. التعويض) وفق الاتفاق.",
    ],
)
def test_inline_list_numbers_do_not_end_a_sentence(text):
    assert_whole(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("بلغ عدد القتلى 12. وقالت الشرطة إن التحقيق مستمر.",
         ["بلغ عدد القتلى 12.", "وقالت الشرطة إن التحقيق مستمر."]),
        ("احتل الفريق المركز 1. وجاء منافسه ثانيا.", ["احتل الفريق المركز 1.", "وجاء منافسه ثانيا."]),
        ("فاز الفريق بنتيجة 3 مقابل 2. وفي مباراة أخرى تعادل الفريقان.",
         ["فاز الفريق بنتيجة 3 مقابل 2.", "وفي مباراة أخرى تعادل الفريقان."]),
        # items that end in a full stop are sentences of their own, each with its number
        ("الخطة: 1. وقف إطلاق النار. 2. إيصال المساعدات. 3. الانتخابات.",
         ["الخطة: 1. وقف إطلاق النار.", "2. إيصال المساعدات.", "3. الانتخابات."]),
        # consecutive numbers that do not count from 1 are no list
        ("سجل المهاجم في الدقيقة 45. ثم أضاف زميله هدفا في الدقيقة 46. وانتهت المباراة.",
         ["سجل المهاجم في الدقيقة 45.", "ثم أضاف زميله هدفا في الدقيقة 46.", "وانتهت المباراة."]),
        # a number on another line is not the neighbour of this one
        ("شارك 1. من الطلاب\nوحضر 2. وغادر الباقون.", ["شارك 1.", "من الطلاب", "وحضر 2.", "وغادر الباقون."]),
    ],
)
def test_a_number_at_a_sentence_end_still_ends_it(text, expected):
    assert sentences(text) == expected


# --- a quotation and its attribution ------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '"هذه لحظة تاريخية لم نشهد مثلها منذ عقود!" كما أضاف هاميل.',
        '"كيف يمكن أن نفاوض من يعتبرنا مجرد خصم؟" تساءلت.',
        '"لن نتراجع عن مطالبنا مهما كلفنا ذلك!" قال المتحدث باسم المتظاهرين.',
        '"لن نتراجع عن مطالبنا مهما كلفنا ذلك!" قالت متظاهرة، مضيفة أنها ستعود غدا.',
        '"هل يعقل أن يستمر هذا الوضع إلى الأبد؟" فتساءل الكاتب.',
        '"هل يعقل أن يستمر هذا الوضع إلى الأبد؟" وتساءلت سارة.',
        "«هذا غير مقبول على الإطلاق بأي حال!» أكد الوزير.",
        '"لن نتراجع عن مطالبنا مهما كلفنا ذلك." قال المتحدث.',
        '"هل سمعتم بما جرى في المدينة أمس؟" يتساءل المذيع.',
    ],
)
def test_a_quotation_stays_with_its_attribution(text):
    assert_whole(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the verb brings new content: a new sentence
        ('"هذه لحظة تاريخية لم نشهد مثلها منذ عقود!" وأضاف أن الحكومة ستعمل على ذلك.',
         ['"هذه لحظة تاريخية لم نشهد مثلها منذ عقود!"', "وأضاف أن الحكومة ستعمل على ذلك."]),
        ('"هل يعقل أن يستمر هذا الوضع إلى الأبد؟" قال إن الحكومة لا تملك جوابا.',
         ['"هل يعقل أن يستمر هذا الوضع إلى الأبد؟"', "قال إن الحكومة لا تملك جوابا."]),
        ('"لن نتراجع عن مطالبنا مهما كلفنا ذلك!" وأضاف: "سنبقى هنا".',
         ['"لن نتراجع عن مطالبنا مهما كلفنا ذلك!"', 'وأضاف: "سنبقى هنا".']),
        # a long clause after a prefixed verb is a sentence of its own
        ('"هل يعقل أن يستمر هذا الوضع إلى الأبد؟" وتساءل الكاتب عن جدوى المفاوضات مع الحكومة الحالية.',
         ['"هل يعقل أن يستمر هذا الوضع إلى الأبد؟"',
          "وتساءل الكاتب عن جدوى المفاوضات مع الحكومة الحالية."]),
        # after a full stop, "و" + verb continues the narration
        ('وقال "سنواصل دعم الشعب السوري." وتابع كارني حديثه.',
         ['وقال "سنواصل دعم الشعب السوري."', "وتابع كارني حديثه."]),
        # the attribution ends its sentence; the next one is separate
        ('"لن نتراجع عن مطالبنا مهما كلفنا ذلك!" قال المتحدث. وتفرق المتظاهرون بعد ذلك.',
         ['"لن نتراجع عن مطالبنا مهما كلفنا ذلك!" قال المتحدث.', "وتفرق المتظاهرون بعد ذلك."]),
        # no verb of saying
        ('"هل ستترشح لولاية ثانية في الانتخابات المقبلة؟" فرفض الرئيس الإجابة.',
         ['"هل ستترشح لولاية ثانية في الانتخابات المقبلة؟"', "فرفض الرئيس الإجابة."]),
    ],
)
def test_a_quotation_before_a_new_sentence_still_ends(text, expected):
    assert sentences(text) == expected


# --- the one-character ellipsis behaves like three dots -------------------------


@pytest.mark.parametrize(
    ("template", "count"),
    [
        ("قال إنه سيعود{} في الأسبوع المقبل.", 1),
        ("انتظرنا طويلا{} وأخيرا وصل القطار.", 2),
        ('وقال "انتظرنا طويلا{} ثم وصل القطار" وغادر.', 1),
        ("يقرأون، {} حب القراءة يجمعهم.", 1),
        ("الضرائب والنقل إلخ{} من أجل الجميع.", 1),
        ("الضرائب والنقل{}إلخ في كل مكان.", 1),
        ("هل سيعود{} أم لا؟", 1),
        ("كانت الساعة 3:45 م{} وصل القطار.", 2),
        ("قال روي في{} واد إن القضية انتهت.", 2),
    ],
)
def test_one_character_ellipsis_splits_exactly_where_three_dots_do(template, count):
    one_char = sentences(template.format("…"))
    three_dots = sentences(template.format("..."))
    assert len(one_char) == count
    assert [s.replace("…", "...") for s in one_char] == three_dots


# --- vertical tab and form feed ------------------------------------------------


@pytest.mark.parametrize("soft_break", ["\v", "\f"])
def test_a_lone_vertical_tab_or_form_feed_inside_a_sentence_is_a_space(soft_break):
    assert_whole(f"أعلن وزير الخارجية{soft_break}الأمريكي أنه سيزور المنطقة.")
    assert_whole(f"قال الوزير:{soft_break}إن الحكومة ستستقيل.")
    assert_whole(f"التقى د.{soft_break}محمد الوفد.")
    text = f"وصل الوفد.{soft_break}وبدأت المحادثات فورا."
    assert sentences(text) == ["وصل الوفد.", "وبدأت المحادثات فورا."]


@pytest.mark.parametrize("breaks", ["\v\v", "\f\f", "\v \f", "\n\f", "\f\n"])
def test_a_blank_line_of_soft_breaks_ends_a_paragraph(breaks):
    assert sentences(f"العنوان الرئيسي{breaks}نص الخبر هنا.") == ["العنوان الرئيسي", "نص الخبر هنا."]


def test_cli_keeps_a_sentence_broken_by_a_page_break_whole(tmp_path):
    text = "قال الوزير إن الحكومة\fستستقيل غدا. وغادر القاعة.\n"
    path = tmp_path / "page.txt"
    path.write_text(text, encoding="utf-8")
    result = run_cli("segment", str(path), "--jsonl")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in records] == ["قال الوزير إن الحكومة\fستستقيل غدا.", "وغادر القاعة."]
    assert [text[r["start"] : r["end"]] for r in records] == [r["text"] for r in records]
