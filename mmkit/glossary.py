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
    Term('contrastive learning', '对比学习', 'train matching pairs close and every other pairing far apart in one space', "11"),
    Term('dual encoder', '双塔编码器', 'one encoder per modality, each with a projection head into the shared space', "11"),
    Term('embedding space', '嵌入空间', 'the shared vector space both encoders map into; nearness means relatedness', "11"),
    Term('temperature', '温度系数', 'divides the similarities before the softmax: low is sharp, high is flat', "11"),
    Term('zero-shot classification', '零样本分类', 'classifying by comparing with prompts, with no classifier trained for the classes', "11"),
    Term('prompt, prompt ensembling', '提示词, 提示集成', 'a class written as a caption; averaging several wordings per class', "11"),
    Term('retrieval, Recall@K', '检索, Recall@K (前K召回率)', 'ranking a gallery for a query; the share of queries with the right item in the top K', "11"),
    Term('hard negative', '困难负样本', 'a false example close to a true one: the same words in a wrong order', "11"),
    Term('modality gap', '模态鸿沟', 'image and text embeddings sit in two separate cones of the shared space', "11"),
    Term('emergent alignment', '涌现对齐', 'two modalities aligned through a third without ever being paired', "11"),

    # lesson 12: Vision Transformer and cross-attention

    # lesson 13: a tiny vision-language model

]


def as_markdown(terms=None) -> str:
    """The glossary as a Markdown table, in the order of TERMS."""
    rows = ["| English | 中文 | in one line |", "|---|---|---|"]
    rows += [f"| {t.english} | {t.chinese} | {t.meaning} |" for t in (terms or TERMS)]
    return "\n".join(rows)
