"""Remove a company's identity from text before it becomes a public FAQ.

Removes: the record's own enterprise and people (contact, officer, history `by`: full name,
surname + title, 老/小 + surname), other company names, names a role word announces (联系人、
法定代表人、员工 …), surname + title, jieba's person tags filtered by surname; phone numbers,
ID-card, passport and permit numbers, unified social credit codes in any case or spacing,
licence plates (incl. new-energy), bank accounts, WeChat/QQ ids, e-mail addresses also when
written "name at example dot com" or [at]/(at), and addresses with Arabic or Chinese numerals
(海泰路一百二十三号, 三号楼五单元). Full-width digits and letters are read as ASCII first.
Regexes find the spans; jieba's part-of-speech tags trim a span's left edge so that
"我们是天津某某有限公司" loses the company name but keeps "我们是".
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
    "plate": "（车牌略）",
    "account": "（账号略）",
    "im": "（账号略）",
}

# What the editor reads for each kind (the draft's note, the CLI's list).
IDENTITY_LABEL = {"company": "企业名称", "person": "人名", "phone": "电话", "id": "证件号码", "licence": "证照号码",
              "email": "邮箱", "address": "地址", "plate": "车牌号", "account": "银行账号", "im": "微信/QQ"}

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

# Full-width letters, digits and the e-mail/phone punctuation become ASCII before matching
# (one character for one, so nothing else in the text moves): １３８…, ＠, ．, －, ＋, ＿.
_FULL_WIDTH = {**{0xFF10 + i: 0x30 + i for i in range(10)}, **{0xFF21 + i: 0x41 + i for i in range(26)},
               **{0xFF41 + i: 0x61 + i for i in range(26)}, 0xFF20: 0x40, 0xFF0E: 0x2E, 0xFF0D: 0x2D,
               0xFF0B: 0x2B, 0xFF3F: 0x5F, 0x3000: 0x20}
_NUM = "零〇一二三四五六七八九十百千两"  # Chinese numerals, as in 三号楼五单元, 一百二十三号
_N = rf"(?:\d+|[{_NUM}]+)"
_UNIT = r"(?:号楼|号院|栋|幢|座|楼|单元|层|室|号|门|户)"
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_AT = r"(?:\s*@\s*|\s*[\(\[（【{<]\s*at\s*[\)\]）】}>]\s*|\s+at\s+|\s*艾特\s*)"
_DOT = r"(?:\s*\.\s*|\s*[\(\[（【{<]\s*dot\s*[\)\]）】}>]\s*|\s+dot\s+|\s*点\s*)"
_SEP = r"[ \-]?"  # a space or hyphen people put between groups of a long number


def _spaced(n: int, cls: str = "[0-9A-Za-z]") -> str:
    return cls + (_SEP + cls) * (n - 1)


# A street address; its start is moved to the first place word (see _address_start).
_STREET = re.compile(r"[\u4e00-\u9fa5A-Za-z0-9]{0,16}?[\u4e00-\u9fa5]{1,8}(?:大道|路|街|巷|弄|道|里)"
                     + _N + r"(?:-\d+)?号(?:[A-Za-z0-9\u4e00-\u9fa5\-]{0,8}?" + _UNIT + ")*")
# (kind, pattern). A group named `v` marks the part to remove (the keyword before it stays).
_PATTERNS = [
    ("email", re.compile(r"[A-Za-z0-9._%+\-]+" + _AT + r"[A-Za-z0-9\-]+(?:" + _DOT + r"[A-Za-z0-9\-]+)*" + _DOT
                         + r"[A-Za-z]{2,}(?![A-Za-z])", re.I)),
    ("im", re.compile(r"(?:微信号?|微信\s*ID|weixin|wechat|vx|wx)\s*(?:号|账号|是|为)?\s*[:：]?\s*"
                      r"(?P<v>[A-Za-z][-_A-Za-z0-9]{5,19})(?![-_A-Za-z0-9])", re.I)),
    ("im", re.compile(r"(?<![A-Za-z0-9_])wxid_[A-Za-z0-9_]{4,}", re.I)),
    ("im", re.compile(r"(?:QQ|扣扣)\s*(?:号码|号|群)?\s*(?:是|为)?\s*[:：]?\s*(?P<v>[1-9]\d{4,11})(?![0-9])", re.I)),
    ("id", re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}" + _SEP + r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01])"
                      + _SEP + r"\d{3}[\dXx](?![0-9A-Za-z])")),
    # Unified social credit code: 18 characters, digits at 3–8 (the region), any case, any spacing.
    ("licence", re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]" + _SEP + r"[0-9A-Za-z]" + _SEP + _spaced(6, r"\d") + _SEP
                           + _spaced(10) + r"(?![0-9A-Za-z])")),
    ("id", re.compile(r"(?:护照|通行证|签证|军官证|驾驶证|驾照)\s*(?:号码|号)?\s*(?:是|为)?\s*[:：]?\s*"
                      r"(?P<v>[A-Za-z]{0,2}\d{6,10})(?![0-9A-Za-z])")),
    ("id", re.compile(r"(?<![0-9A-Za-z])(?:E[A-Z]?|G|D|S|P|H|M)\d{7,8}(?![0-9A-Za-z])")),  # passports, HK/Macau permits
    ("plate", re.compile(rf"[{_PROVINCES}]\s*[A-HJ-NP-Za-hj-np-z]\s*[·•.．\-\s]?\s*(?=(?:[A-Za-z]*\d){{3}})"
                         r"[A-HJ-NP-Za-hj-np-z0-9]{5,6}(?![A-Za-z0-9])[挂学警港澳]?")),
    ("account", re.compile(r"(?:账号|帐号|卡号|账户|帐户|户号|银行卡|储蓄卡|信用卡)\s*(?:是|为)?\s*[:：]?\s*(?P<v>\d(?:[ \-]?\d){9,24})(?![0-9])")),
    # 16–19 digits, run together or in groups with spaces (see _keep_match); hyphens only after a label
    # above, since 20250301-20251231 is a period, not an account.
    ("account", re.compile(r"(?<![0-9\-])\d{4}(?: ?\d{4}){2,3} ?\d{1,4}(?![0-9\-])")),
    ("licence", re.compile(r"(?<=[证号码照]：)[A-Za-z0-9\-]{6,}|(?<=[证号码照]:)\s*[A-Za-z0-9\-]{6,}|"
                           r"(?<=许可证)[A-Za-z0-9\-]{6,}|(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])")),
    ("phone", re.compile(r"(?<![0-9])(?:\+?86[-\s]?)?1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}(?![0-9])")),
    ("phone", re.compile(r"(?<![0-9])(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3}[-－\s]?)\d{7,8}(?:(?:-|转)\d{1,5})?(?![0-9])")),
    ("phone", re.compile(r"(?<![0-9])1[3-9]\d[*＊×xX]{4}\d{4}(?![0-9])")),  # already half-masked
    ("phone", re.compile(r"(?<![0-9])[48]00[-\s]?\d{3}[-\s]?\d{4}(?![0-9])")),
    ("phone", re.compile(r"(?<=电话|手机|热线|座机)[:：\s]*\d{7,8}(?![0-9])")),
    ("address", _STREET),
    # Building, unit, floor, room without a street (三号楼五单元, 5栋2单元301室, 阳光花园3号楼): two parts or more.
    ("address", re.compile(r"(?:[\u4e00-\u9fa5]{2,6}(?:小区|花园|家园|公寓|大厦|新村|苑))?"
                           + _N + _UNIT + r"(?:[-之]?" + _N + _UNIT + ")+")),
    ("address", re.compile(r"(?:[\u4e00-\u9fa5]{2,6}(?:小区|花园|家园|公寓|新村|苑))" + _N + _UNIT)),
    ("address", re.compile(r"(?<![0-9])\d{3,4}(?:室|房间)")),
    ("company", re.compile(r"[\u4e00-\u9fa5A-Za-z0-9（）()]{2,30}?" + ORG_SUFFIX)),
]
# Words before a name that say a person follows (联系人：张伟, 法定代表人李强, 员工王芳).
_ROLE = re.compile(r"(?:联系人|负责人|经办人|对接人|法人代表|法定代表人|法人|代表人|申请人|股东|员工|职工|工人|业主|"
                   r"姓名|名叫|叫做)\s*(?:是|为)?\s*[:：]?\s*")


def normalise_width(text: str) -> str:
    """Full-width digits, letters and @.-+_ as their ASCII twins (same length, same places)."""
    return text.translate(_FULL_WIDTH)


def _keep_match(kind: str, m: re.Match) -> bool:
    """Second look at a match that a pattern alone cannot decide."""
    if kind == "account" and "v" not in m.re.groupindex:
        return 16 <= sum(c.isdigit() for c in m.group(0)) <= 19
    if kind == "address":
        # 一楼, 三层 alone are ordinary words; a numeral address needs digits or several parts
        return not re.fullmatch(rf"[{_NUM}]{{1,2}}(?:楼|层|号)", m.group(0))
    return True


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
    prev = None
    for a, b, word, flag in tokens:
        if b <= start or a < start:
            continue
        if a >= end:
            break
        if flag == "ns" or word.endswith(("省", "市", "区", "县", "镇", "路", "街", "道", "园")):
            if word in ("路", "街", "道", "巷", "弄", "里", "大道") and prev is not None:
                return prev  # a street name jieba does not know: 海泰 / 路
            return a
        prev = a
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


def _surname_of(name: str) -> str:
    return name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]


def _remove_people(text: str, people, removed: list) -> str:
    """Each known person: the full name everywhere, and the surname with a title or 小/老 (张经理, 老张)."""
    titles = "|".join(TITLES)
    for name in sorted({p for p in people if p}, key=len, reverse=True):
        n = 0
        if len(name) > 1:
            n = text.count(name)
            text = text.replace(name, PLACEHOLDER["person"])
        surname = _surname_of(name) if len(name) > 1 else name
        text, k = re.subn(re.escape(surname) + "(?=" + titles + ")", "某", text)
        text, j = re.subn("(?<=[小老])" + re.escape(surname), "某", text)
        if n or k or j:
            removed.append(("person", name))
    return text


def _role_names(text: str, keep) -> list[str]:
    """Names right after a word that announces a person (联系人, 法定代表人, 员工 …)."""
    out = []
    tokens = _tokens(text)
    starts = {a: i for i, (a, _b, _w, _f) in enumerate(tokens)}
    for m in _ROLE.finditer(text):
        i = starts.get(m.end())
        if i is None:
            continue
        a, b, word, flag = tokens[i]
        if len(word) == 1 and i + 1 < len(tokens) and len(tokens[i + 1][2]) <= 2:
            word = word + tokens[i + 1][2]  # jieba split an unknown name: 张 / 伟
        if (_looks_like_name(word) and len(word) <= 3 and not _common_word(word)
                and not flag.startswith(("p", "c", "u", "r", "d")) and not any(word in k for k in keep)):
            out.append(word)
    return out


def anonymise(text: str, *, enterprise: str | None = None, people: list[str] | tuple = (),
              keep: list[str] | tuple = ()) -> Result:
    """Text with identities replaced by placeholders; `keep` lists names that may stay
    (the responsible department, policy issuers)."""
    removed: list[tuple[str, str]] = []
    keep = [k for k in keep if k]

    def sub_span(s: str, a: int, b: int, kind: str) -> str:
        removed.append((kind, s[a:b]))
        return s[:a] + PLACEHOLDER[kind] + s[b:]

    text = normalise_width(text)
    # 1. What the record itself tells us.
    for form in _company_cores(enterprise) if enterprise else []:
        if form in text:
            removed.append(("company", form))
            text = text.replace(form, PLACEHOLDER["company"])
    text = _remove_people(text, people, removed)

    # 2. Patterns.
    for kind, pattern in _PATTERNS:
        pos = 0
        while (m := pattern.search(text, pos)) is not None:
            a, b = m.span("v") if "v" in pattern.groupindex else m.span()
            if not _keep_match(kind, m) or "略）" in text[a:b]:
                pos = m.start() + 1
                continue
            if pattern is _STREET:
                a = _address_start(a, b, _tokens(text))
            elif kind == "address" and re.match(r"[\u4e00-\u9fa5]{3}", text[a:b]):
                a = _trim_left(a, b, _tokens(text))  # 住在阳光花园… loses 住在, keeps the verb
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

    # 3. Names that a role word announces (联系人张伟, 法定代表人李强): removed wherever they occur.
    text = _remove_people(text, _role_names(text, keep), removed)

    # 4. Surname + title (王经理, 刘总), then person tags.
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
    tokens = _merge_split_names(_tokens(text))
    for i, (_a, _b, word, flag) in enumerate(tokens):
        after = tokens[i + 1][3] if i + 1 < len(tokens) else "x"
        if _familiar(word, flag, after):  # 老李, 小张: the surname goes, the 老/小 stays
            removed.append(("person", word))
            result.append(word[0] + "某")
        elif (flag.startswith("nr") and _looks_like_name(word) and not _common_word(word)
              and not any(word in k for k in keep)):
            removed.append(("person", word))
            result.append(PLACEHOLDER["person"])
        else:
            result.append(word)
    return Result("".join(result), removed)


def _merge_split_names(tokens: list) -> list:
    """jieba often cuts an unknown name after its surname (周 / 志强, 欧阳 / 娜娜): a surname token
    followed by a one- or two-character name token becomes one name token."""
    out, i = [], 0
    while i < len(tokens):
        a, b, word, flag = tokens[i]
        if (i + 1 < len(tokens) and (word in SURNAMES or word in COMPOUND_SURNAMES)
                and not flag.startswith(("c", "p", "u", "d", "r", "v", "f", "m", "q"))  # 和, 向, 与 … are words here
                and tokens[i + 1][3].startswith("nr") and re.fullmatch(r"[\u4e00-\u9fa5]{1,2}", tokens[i + 1][2])):
            nb, nword = tokens[i + 1][1], tokens[i + 1][2]
            out.append((a, nb, word + nword, "nr"))
            i += 2
            continue
        out.append(tokens[i])
        i += 1
    return out


# 小/老 + a surname character that are ordinary words, not a person (小区, 老年, 小微企业).
_NOT_FAMILIAR = {"小区", "老年", "小微", "小额", "小型", "小学", "小组", "老旧", "老化", "小计", "小米", "小吃", "老家",
                 "小康", "老板", "老师", "小时", "小麦", "老龄", "小巷", "老城", "小城", "小车", "老车", "小商", "小店",
                 "老店", "小雨", "小孩", "老鼠", "小说", "老乡", "小姐", "老总", "小路", "小于", "老房", "小项", "小包"}


def _familiar(word: str, flag: str, after_flag: str) -> bool:
    """老李, 小张 said of a person: a 2-character word of 小/老 and a surname, tagged as a name or
    followed by a verb, conjunction, adverb, preposition or punctuation."""
    return (len(word) == 2 and word[0] in "小老" and word[1] in SURNAMES and word not in _NOT_FAMILIAR
            and (flag == "nr" or after_flag.startswith(("v", "c", "d", "p", "x", "u"))))
