"""The language of the explorers' controls, titles, axis labels and ticks: English or
Chinese (their status lines stay English).

    mmkit.set_language("zh")   # 中文: widgets made from now on speak Chinese
    mmkit.set_language("en")   # back to English (the default)

or, for a whole Jupyter server, the environment variable ``MMKIT_LANGUAGE=zh`` (``make lab
LANG=zh`` sets it): the Chinese notebooks run the English code, and their explorers still
speak Chinese.

Chinese needs a font with CJK glyphs, or matplotlib draws empty boxes: ``set_language("zh")``
finds one that is installed (WenQuanYi, Noto Sans CJK, Source Han Sans, SimHei, Microsoft
YaHei, PingFang) and puts it first in matplotlib's sans-serif list; when there is none it
raises, naming the package to install.

Explorers are translated in one place: ``translate_figure`` rewrites every title, axis
label, tick label and legend of a figure, and ``Explorer`` calls it (and ``tr`` on each
control's label) whenever the language is Chinese, so no widget needs code of its own.
``tr`` replaces the phrases of ``ZH`` inside a text, longest first, so a title built with
numbers ("clip 3, frame 2") is translated around them ("片段 3, 帧 2"). Quoted text (“a caption”,
'a class name') is data and stays as it is, like the model's own words.
"""

import os
import re
import warnings

LANGUAGES = ("en", "zh")
CJK_FONTS = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC",
             "Source Han Sans SC", "Source Han Sans CN", "SimHei", "Microsoft YaHei",
             "PingFang SC", "Heiti SC", "Arial Unicode MS")
CJK_MONO_FONTS = ("WenQuanYi Micro Hei Mono", "WenQuanYi Zen Hei Mono", "Noto Sans Mono CJK SC",
                  "Sarasa Mono SC")
FONT_HINT = ("no font with Chinese glyphs was found; install one, e.g. "
             "`sudo apt-get install fonts-wqy-microhei` (Debian/Ubuntu), "
             "`sudo dnf install google-noto-sans-cjk-fonts` (Fedora), or `conda install -c "
             "conda-forge font-ttf-noto-cjk`; then restart the kernel")

_state = {"language": "en"}

# English -> Chinese for the explorers' own words (terms as in mmkit.glossary). Phrases are
# matched whole-word, longest first.
ZH: dict[str, str] = {
    # controls
    "sample": "样本", "layer": "层", "channel": "通道", "head": "头", "clip": "片段",
    "frame": "帧", "heatmap of": "热图：", "caption": "描述", "corrupt": "损坏模态",
    "noise level": "噪声强度", "noise": "噪声", "method": "方法", "model": "模型",
    "threshold": "阈值", "learning rate α": "学习率 α", "steps": "步数",
    "temperature T": "温度系数 T", "temperature": "温度系数", "Agree": "同意",
    "Disagree": "不同意", "scene": "场景", "prompt": "提示词", "step": "步",
    "top-k (0: off)": "top-k（0 为关闭）", "blind the image": "遮住图像", "batch": "批次",
    "softmax over": "softmax 方向", "or type": "或输入描述", "question": "问题",
    "who looks": "谁在看", "image layer": "图像层",
    # titles, axes and legends
    "attention weight per sample": "每个样本的注意力权重", "test sample": "测试样本",
    "test accuracy": "测试准确率", "probabilities": "概率",
    "share of |attribution|": "归因占比 |attribution|", "waveform": "波形", "time (s)": "时间 (s)",
    "attended to (key)": "被关注的词 (key)", "attending (query)": "发出关注的词 (query)",
    "false positive rate (FPR)": "假阳性率 (FPR)",
    "true positive rate (TPR, recall)": "真阳性率 (TPR, 召回率)",
    "predicted": "预测", "true": "真实", "truth": "真值", "score": "分数", "scores": "分数",
    "samples": "样本数", "weight": "权重", "chance": "随机水平", "accuracy": "准确率",
    "precision": "精确率", "recall": "召回率", "F1": "F1 分数", "loss": "损失",
    "training loss": "训练损失", "validation loss": "验证损失",
    "validation accuracy": "验证准确率", "epoch": "轮次", "corrupted at": "损坏强度",
    "on the": "在", "samples rated": "个已评分样本上", "rate a sample to start":
    "先给一个样本评分", "the model": "模型", "label": "标签", "peak": "峰值",
    "input": "输入", "all channels (each scaled to its range)": "所有通道（各自缩放）",
    "image": "图像", "text": "文本", "audio": "音频", "video": "视频",
    "log-mel (dB)": "对数梅尔谱 (dB)", "similarity": "相似度", "query": "查询",
    "patch": "图像块", "attention": "注意力", "rollout": "注意力展开",
    "confusion matrix": "混淆矩阵", "heatmap": "热图", "heatmap shown": "显示的热图",
    "frames": "帧", "bowl": "碗形函数", "minimum": "最小值", "you agree": "你同意",
    "the model predicted": "模型预测为",
    "attention weights of": "注意力权重：", "per sample": "每个样本",
    "attention weight": "注意力权重", "samples per bin": "每个区间的样本数",
    "saliency": "显著图", "integrated gradients": "积分梯度", "feature ablation": "特征消融",
    "next-token probabilities": "下一个词元的概率", "probability": "概率",
    "cosine similarity": "余弦相似度", "its top captions": "排名最前的描述",
    "its top images": "排名最前的图像", "query caption": "查询描述", "query image": "查询图像",
    "loss of each pair": "每一对的损失", "softmax of each row at temperature":
    "每行的 softmax，温度系数",
    "right partner": "正确配对", "heads averaged": "各头平均", "word": "词", "mean": "平均",
}
_phrases = {"pattern": None, "size": -1}
_QUOTED = re.compile(r"((?<!\w)'[^']*'(?!\w)|“[^”]*”)")


def cjk_font(candidates=CJK_FONTS) -> str | None:
    """The first installed font of ``candidates`` (CJK_FONTS), or None."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in candidates if name in installed), None)


def set_language(language: str) -> str:
    """Choose the explorers' language, "en" or "zh"; returns it. For "zh", also makes
    matplotlib draw with an installed CJK font (or raises, naming one to install)."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(map(repr, LANGUAGES))}, "
                         f"got {language!r}")
    if language == "zh":
        font = cjk_font()
        if font is None:
            raise RuntimeError(FONT_HINT)
        import matplotlib

        families = matplotlib.rcParams["font.sans-serif"]
        matplotlib.rcParams["font.sans-serif"] = [font, *[f for f in families if f != font]]
        # Monospaced text (captions lined up in columns) needs Chinese glyphs too: a
        # monospaced CJK font if one is installed, else the CJK font found above.
        mono = cjk_font(CJK_MONO_FONTS) or font
        families = matplotlib.rcParams["font.monospace"]
        matplotlib.rcParams["font.monospace"] = [mono, *[f for f in families if f != mono]]
        matplotlib.rcParams["axes.unicode_minus"] = False  # CJK fonts often lack U+2212
    _state["language"] = language
    return language


def language_from_environment() -> str:
    """Apply ``$MMKIT_LANGUAGE`` (mmkit does this once on import). A missing CJK font is
    then a warning, not an error: importing the kit must not fail over labels."""
    wanted = os.environ.get("MMKIT_LANGUAGE", "").strip().lower()
    if not wanted or wanted == _state["language"]:
        return _state["language"]
    try:
        return set_language(wanted)
    except (ValueError, RuntimeError) as problem:
        warnings.warn(f"MMKIT_LANGUAGE={wanted!r} ignored: {problem}", stacklevel=2)
        return _state["language"]


def language() -> str:
    return _state["language"]


def _pattern() -> re.Pattern:
    if _phrases["size"] != len(ZH):  # ZH may grow: rebuild when it does
        words = sorted(ZH, key=len, reverse=True)
        _phrases["pattern"] = re.compile(
            "|".join(rf"(?<![\w]){re.escape(w)}(?![\w])" for w in words))
        _phrases["size"] = len(ZH)
    return _phrases["pattern"]


def tr(text: str) -> str:
    """``text`` in the current language: in Chinese, each phrase of ``ZH`` in it replaced."""
    if _state["language"] != "zh" or not text:
        return text
    # Quoted text is data (a caption, a class name, a fusion's name): left as it is.
    parts = _QUOTED.split(text)
    return "".join(part if i % 2 else _pattern().sub(lambda m: ZH[m.group(0)], part)
                   for i, part in enumerate(parts))


def translate_figure(figure) -> None:
    """Translate every text of a matplotlib figure in place (titles, labels, ticks,
    legends). Each text remembers its English, so calling it again after a widget has
    redrawn retranslates only what changed."""
    from matplotlib.text import Text
    from matplotlib.ticker import FixedFormatter, FuncFormatter

    for ax in figure.axes:  # named ticks are redrawn from their formatter: translate that
        for axis in (ax.xaxis, ax.yaxis):
            formatter = axis.get_major_formatter()
            if isinstance(formatter, FixedFormatter):
                english = getattr(formatter, "_mmkit_english", None) or list(formatter.seq)
                formatter._mmkit_english = english
                formatter.seq = [tr(str(label)) for label in english]
            elif isinstance(formatter, FuncFormatter) and not hasattr(formatter, "_mmkit_english"):
                english = formatter.func
                formatter._mmkit_english = english
                formatter.func = lambda x, pos=None, f=english: tr(str(f(x, pos)))
    for artist in figure.findobj(Text):
        shown = artist.get_text()
        english = getattr(artist, "_mmkit_english", None)
        if english is None or shown != getattr(artist, "_mmkit_shown", None):
            english = shown  # new or redrawn by the widget: this is its English
        translated = tr(english)
        artist._mmkit_english, artist._mmkit_shown = english, translated
        if translated != shown:
            artist.set_text(translated)
