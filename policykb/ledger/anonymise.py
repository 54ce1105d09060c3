"""Remove a company's identity from text before it becomes a public FAQ.

Removes: the record's own enterprise and contact names, other company names, people's names
(known ones, surname + title, and jieba's person tags filtered by surname), phone numbers,
ID-card and licence/credit-code numbers, e-mail addresses and street addresses. Regexes find
the spans; jieba's part-of-speech tags trim a span's left edge so that "我们是天津某某有限公司"
loses the company name but keeps "我们是".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

PLACEHOLDER = {
    "company": "某企业",
    "person": "某某",
    "phone": "（电话略）",
    "id": "（证件号码略）",
    "licence": "（证照号码略）",
    "email": "（邮箱略）",
    "address": "（地址略）",
}

# What the editor reads for each kind (the draft's note, the CLI's list).
KIND_LABEL = {"company": "企业名称", "person": "人名", "phone": "电话", "id": "证件号码", "licence": "证照号码",
              "email": "邮箱", "address": "地址"}

# Common single-character surnames plus compound ones: person tags from jieba are only trusted
# when they start with one of these (jieba also tags "高新区" as a person).
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施"
    "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷"
    "盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷"
    "晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝")
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "令狐", "慕容", "夏侯", "长孙")
TITLES = ("总经理", "董事长", "副总", "经理", "主任", "主管", "书记", "部长", "厂长", "所长", "院长", "处长", "科长",
          "先生", "女士", "小姐", "老师", "师傅", "总监", "会计", "总", "工")
ORG_SUFFIX = r"(?:股份有限公司|有限责任公司|集团有限公司|有限公司|集团公司|分公司|子公司|集团|公司|研究院|事务所|合作社|工作室)"
# Tokens a name cannot start with: pronouns, verbs, prepositions, particles, conjunctions, adverbs, punctuation.
_FUNCTION_FLAGS = ("r", "v", "p", "u", "c", "d", "x", "y", "e", "o", "f", "q", "t", "a", "l", "i")
_NOT_OWN = ("我", "本", "贵", "该", "这", "那", "其", "各", "每", "某", "分", "子", "总", "母", "新", "老", "大", "小")

_PATTERNS = [
    ("email", re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")),
    ("id", re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])")),
    ("licence", re.compile(r"(?<![0-9A-Za-z])[0-9A-Z]{2}\d{6}[0-9A-Z]{10}(?![0-9A-Za-z])")),
    ("licence", re.compile(r"(?<=[证号码照]：)[A-Za-z0-9\-]{6,}|(?<=[证号码照]:)\s*[A-Za-z0-9\-]{6,}|"
                           r"(?<=许可证)[A-Za-z0-9\-]{6,}|(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])")),
    ("phone", re.compile(r"(?<![0-9])(?:\+?86[-\s]?)?1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}(?![0-9])")),
    ("phone", re.compile(r"(?<![0-9])(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3}[-－\s]?)\d{7,8}(?:(?:-|转)\d{1,5})?(?![0-9])")),
    ("phone", re.compile(r"(?<![0-9])1[3-9]\d[*＊×xX]{4}\d{4}(?![0-9])")),  # already half-masked
    ("phone", re.compile(r"(?<![0-9])[48]00[-\s]?\d{3}[-\s]?\d{4}(?![0-9])")),
    ("phone", re.compile(r"(?<=电话|手机|热线|座机)[:：\s]*\d{7,8}(?![0-9])")),
    ("address", re.compile(r"[\u4e00-\u9fa5A-Za-z0-9]{0,16}?[\u4e00-\u9fa5]{1,8}(?:大道|路|街|巷|弄|道)"
                           r"\d+(?:-\d+)?号(?:[A-Za-z0-9\u4e00-\u9fa5\-]{0,8}?(?:号楼|楼|室|座|栋|幢|单元|层))*")),
    ("company", re.compile(r"[\u4e00-\u9fa5A-Za-z0-9（）()]{2,30}?" + ORG_SUFFIX)),
]


@dataclass
class Result:
    text: str
    removed: list[tuple[str, str]] = field(default_factory=list)  # (kind, original text)


def _jieba():
    import jieba
    import jieba.posseg
    jieba.setLogLevel(60)
    return jieba.posseg


def _tokens(text: str) -> list[tuple[int, int, str, str]]:
    out, pos = [], 0
    for w in _jieba().cut(text):
        out.append((pos, pos + len(w.word), w.word, w.flag))
        pos += len(w.word)
    return out


def _trim_left(start: int, end: int, tokens) -> int:
    """Move a span's start past function words (pronouns, verbs, particles, punctuation)."""
    for a, b, word, flag in tokens:
        if b <= start:
            continue
        if a >= end:
            break
        if flag.startswith(_FUNCTION_FLAGS) and flag not in ("vn",) or word in ("我们", "我司", "本", "贵", "该"):
            start = max(start, b)
            continue
        if a > start:
            # a token boundary inside the span: only snap when the cut-off part was a function word
            break
        break
    return start


def _address_start(start: int, end: int, tokens) -> int:
    """An address starts at its first place word (滨海, 高新区, 海泰西路), not at the words before it."""
    for a, b, word, flag in tokens:
        if b <= start or a < start:
            continue
        if a >= end:
            break
        if flag == "ns" or word.endswith(("省", "市", "区", "县", "镇", "路", "街", "道", "园")):
            return a
    return start


def _common_word(word: str) -> bool:
    """jieba's dictionary tags many ordinary words as person names (许可, 文明, 孙子); those have a
    high dictionary frequency, real names found in text are mostly unknown words or rare entries."""
    import jieba
    jieba.setLogLevel(60)
    jieba.initialize()
    return (jieba.dt.FREQ.get(word) or 0) >= 450


def _looks_like_name(word: str) -> bool:
    if not 2 <= len(word) <= 4 or not re.fullmatch(r"[\u4e00-\u9fa5]+", word):
        return False
    if word[:2] in COMPOUND_SURNAMES:
        return True
    return word[0] in SURNAMES and not word.endswith(("区", "市", "县", "镇", "路", "街", "园", "省", "局", "委", "厂"))


def names_in(text: str | None) -> list[str]:
    """Person-like words in a contact field such as “张伟 13812345678” or “李经理”."""
    if not text:
        return []
    out = []
    for part in re.findall(r"[\u4e00-\u9fa5]{2,4}", text):
        part = re.sub("(" + "|".join(TITLES) + ")$", "", part)
        if _looks_like_name(part) or (len(part) == 1 and part in SURNAMES):
            out.append(part)
    return out


def _company_cores(name: str) -> list[str]:
    """A company's full name and the shorter forms people use (without region and legal suffix)."""
    forms = {name}
    core = re.sub(ORG_SUFFIX + "$", "", name)
    core = re.sub(r"^(?:[\u4e00-\u9fa5]{2,3}?(?:省|市|区|县))+", "", core) or core
    core = re.sub(r"^(?:天津|北京|上海|重庆|杭州|滨海|中国)", "", core) or core
    # People shorten a name to any leading part of its core (华兴精密, 华兴): every prefix of two
    # characters or more is treated as the company, longest first.
    for n in range(2, len(core) + 1):
        forms.add(core[:n])
    return sorted(forms, key=len, reverse=True)


def anonymise(text: str, *, enterprise: str | None = None, people: list[str] | tuple = (),
              keep: list[str] | tuple = ()) -> Result:
    """Text with identities replaced by placeholders; `keep` lists names that may stay
    (the responsible department, policy issuers)."""
    removed: list[tuple[str, str]] = []
    keep = [k for k in keep if k]

    def sub_span(s: str, a: int, b: int, kind: str) -> str:
        removed.append((kind, s[a:b]))
        return s[:a] + PLACEHOLDER[kind] + s[b:]

    # 1. What the record itself tells us.
    for form in _company_cores(enterprise) if enterprise else []:
        if form in text:
            removed.append(("company", form))
            text = text.replace(form, PLACEHOLDER["company"])
    for name in sorted({p for p in people if p}, key=len, reverse=True):
        if len(name) == 1:  # a bare surname: only with a title (李经理)
            text, n = re.subn(re.escape(name) + "(?=" + "|".join(TITLES) + ")", "某", text)
        else:
            n = text.count(name)
            text = text.replace(name, "某某")
        if n:
            removed.append(("person", name))

    # 2. Patterns.
    for kind, pattern in _PATTERNS:
        pos = 0
        while (m := pattern.search(text, pos)) is not None:
            a, b = m.start(), m.end()
            if kind == "address":
                a = _address_start(a, b, _tokens(text))
            if kind == "company":
                a = _trim_left(a, b, _tokens(text))
                span = text[a:b]
                core = re.sub(ORG_SUFFIX + "$", "", span) if kind == "company" else span
                inner = re.search(ORG_SUFFIX, core) if kind == "company" else None
                if inner:  # two names ran together (我公司和贵公司): look again after the first
                    pos = a + inner.end()
                    continue
                if (len(core) < 2 or span.startswith(_NOT_OWN) or "略）" in span or any(k in span or span in k for k in keep)
                        or PLACEHOLDER["company"] in span):
                    pos = m.end()
                    continue
            text = sub_span(text, a, b, kind)
            pos = a + len(PLACEHOLDER[kind])

    # 3. Surname + title (王经理, 刘总), then person tags.
    title_re = re.compile(r"(?:" + "|".join(COMPOUND_SURNAMES) + r"|[" + "".join(sorted(SURNAMES)) + r"])"
                          r"(?:[\u4e00-\u9fa5]{1,2}?)?(?=" + "|".join(TITLES) + ")")
    out, pos, at = [], 0, 0
    starts = {a: (b, word, flag) for a, b, word, flag in _tokens(text)}
    while (m := title_re.search(text, at)) is not None:
        word, tok = m.group(0), starts.get(m.start())
        at = m.start() + 1
        if tok is None or (tok[0] - m.start() > 1 and tok[2] != "nr" and tok[1] not in COMPOUND_SURNAMES):
            continue  # the "surname" begins an ordinary word (项目经理, 高工)
        if tok[0] - m.start() == 1 and tok[2].startswith(("c", "p", "u", "r", "d", "v")):
            continue  # 和, 向, 与 ... are words here, not surnames
        out.append(text[pos:m.start()] + "某")
        removed.append(("person", word))
        pos = at = m.end()
    text = "".join(out) + text[pos:]
    result = []
    for a, b, word, flag in _tokens(text):
        if flag == "nr" and _looks_like_name(word) and not _common_word(word) and not any(word in k for k in keep):
            removed.append(("person", word))
            result.append(PLACEHOLDER["person"])
        else:
            result.append(word)
    return Result("".join(result), removed)
