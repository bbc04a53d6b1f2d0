"""The kit's glossary (术语表): one Chinese rendering per English term, used everywhere.

Notebook 00 shows it as a table; every lesson uses these renderings, and the Chinese
edition is checked against them. Each entry: (English, 中文, what it is in one line,
the lesson that introduces it). Add a lesson's terms under its own heading.
"""

from typing import NamedTuple


class Term(NamedTuple):
    english: str
    chinese: str
    meaning: str
    lesson: str  # "00" .. "13": where the term is introduced


TERMS = [
    # lessons 00-10
    Term('modality', '模态', 'one kind of data: text, image, audio, video', "00"),
    Term('multimodal model', '多模态模型', 'a model that takes more than one modality at once', "00"),
    Term('preprocessing', '数据预处理', 'cleaning, normalising, augmenting raw data before a model sees it', "00"),
    Term('feature extraction', '特征提取', 'turning raw data into vectors a model can compare', "00"),
    Term('encoder', '编码器', "the network that extracts one modality's features", "00"),
    Term('feature fusion', '特征融合', "combining the modalities' features into one representation", "00"),
    Term('concatenation fusion', '拼接融合', 'fusion by joining feature vectors end to end', "00"),
    Term('weighted fusion', '加权融合', 'fusion by a weighted sum, a weight per modality', "00"),
    Term('attention mechanism', '注意力机制', 'weights computed from the data itself, per sample', "00"),
    Term('word embedding', '词嵌入', 'a learned vector per word', "00"),
    Term('convolutional neural network (CNN)', '卷积神经网络', 'layers of small filters slid over an image', "00"),
    Term('recurrent neural network (RNN) / LSTM', '循环神经网络 / 长短期记忆网络', 'reads a sequence step by step, carrying a state', "00"),
    Term('Transformer', '变换器 (转换器)', 'self-attention layers with positional encoding', "00"),
    Term('positional encoding', '位置编码', 'tells attention where each token is', "00"),
    Term('MFCC', '梅尔频率倒谱系数', "compact description of a sound's spectral shape", "00"),
    Term('short-time Fourier transform (STFT)', '短时傅里叶变换', 'frequencies over time, frame by frame', "00"),
    Term('optical flow', '光流', 'how each pixel moves between two video frames', "00"),
    Term('pose estimation', '姿态估计', 'finding body joints in an image', "00"),
    Term('activation function', '激活函数', 'the non-linearity between layers (ReLU)', "00"),
    Term('softmax', 'Softmax 函数', 'scores to probabilities', "00"),
    Term('loss function', '损失函数', 'how wrong a prediction is; training lowers it', "00"),
    Term('cross-entropy', '交叉熵', 'the loss for classification', "00"),
    Term('mean squared error', '均方误差', 'the loss for regression', "00"),
    Term('gradient descent', '梯度下降', 'step the parameters against the gradient', "00"),
    Term('learning rate', '学习率', 'the size of that step', "00"),
    Term('accuracy / precision / recall', '准确率 / 精确率 / 召回率', 'how often right / how trustworthy a positive / how many positives found', "00"),
    Term('F1 score', 'F1 分数', 'harmonic mean of precision and recall', "00"),
    Term('ROC curve, AUC', 'ROC 曲线, AUC 值', 'true- vs false-positive rate over all thresholds, and the area under it', "00"),
    Term('class imbalance', '数据不平衡', 'one class far more common than another', "00"),
    Term('generalisation', '泛化能力', 'doing well on data not seen in training', "00"),
    Term('interpretability', '可解释性', 'why the model decided what it did', "00"),
    Term('feature map', '特征图', 'what one convolution filter responds to, across the image', "00"),

    # lesson 11: contrastive alignment

    # lesson 12: Vision Transformer and cross-attention

    # lesson 13: a tiny vision-language model
    Term('vision-language model (VLM)', '视觉语言模型', 'a language model that reads image tokens: vision encoder, projector, causal decoder', "13"),
    Term('projector', '投影器', "maps the vision encoder's patch features to tokens the language model can read", "13"),
    Term('causal mask', '因果掩码', 'lets each position attend only to itself and earlier positions', "13"),
    Term('teacher forcing', '教师强制', 'training on the true sequence, each position scored on the next true token', "13"),
    Term('autoregressive decoding', '自回归解码', 'generating one token at a time, each fed back as input', "13"),
    Term('top-k / top-p (nucleus) sampling', 'top-k / top-p (核) 采样', 'sample only among the k most likely tokens / the fewest whose probability reaches p', "13"),
    Term('KV cache', '键值缓存', "keeps earlier positions' keys and values so each step computes only the new token", "13"),
    Term('hallucination', '幻觉', 'generated content that the input does not support, such as an object not in the image', "13"),
    Term('instruction tuning', '指令微调', 'training a model on prompts and the answers wanted', "13"),

]


def as_markdown(terms=None) -> str:
    """The glossary as a Markdown table, in the order of TERMS."""
    rows = ["| English | 中文 | in one line |", "|---|---|---|"]
    rows += [f"| {t.english} | {t.chinese} | {t.meaning} |" for t in (terms or TERMS)]
    return "\n".join(rows)
