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
    Term('Transformer', 'Transformer (文章: 变换器 / 转换器)', 'self-attention layers with positional encoding', "00"),
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
    Term('class imbalance', '类别不平衡 (文章: 数据不平衡)', 'one class far more common than another', "00"),
    Term('generalisation', '泛化能力', 'doing well on data not seen in training', "00"),
    Term('interpretability', '可解释性', 'why the model decided what it did', "00"),
    Term('feature map', '特征图', 'what one convolution filter responds to, across the image', "00"),
    Term('data cleaning', '数据清洗', 'finding and removing or fixing bad samples before training', "02"),
    Term('normalisation', '标准化 (文章: 数据归一化)', 'shifting and scaling inputs to mean 0 and spread 1 with training statistics (z-score); 归一化 often means rescaling to [0, 1] instead', "02"),
    Term('data augmentation', '数据增强', 'training on altered copies (shifted, brighter) that keep the label true', "02"),
    Term('vocabulary', '词表', 'the fixed map from tokens to integer ids, fitted on training texts', "02"),
    Term('mel scale', '梅尔刻度', 'a pitch scale close to hearing: linear below 1 kHz, logarithmic above', "02"),
    Term('log-mel spectrogram', '对数梅尔频谱', 'energy per mel band and frame, in decibels', "02"),
    Term('discrete cosine transform (DCT)', '离散余弦变换', 'a sum of cosines; turns a log-mel frame into MFCCs', "02"),
    Term('aperture problem', '孔径问题', 'through a small window only motion across an edge can be seen', "02"),
    Term('convolution', '卷积', 'the dot product of a small kernel with every patch of the input', "03"),
    Term('pooling', '池化', 'shrinking a map by keeping the max (or mean) of each window; no parameters', "03"),
    Term('fully connected layer', '全连接层', 'every input connected to every output: a matrix product plus a bias', "03"),
    Term('receptive field', '感受野', 'the patch of the input that can change one unit', "03"),
    Term('gate', '门 (输入门, 遗忘门, 输出门)', 'a sigmoid between 0 and 1 that decides how much passes (LSTM, GRU)', "04"),
    Term('multi-head attention', '多头注意力', 'attention run in several heads, each on its own slice of the projections', "04"),
    Term('feed-forward network', '前馈网络', 'two linear layers with a ReLU, applied to each token alone', "04"),
    Term('residual connection', '残差连接', 'x + f(x): a layer learns a correction, and gradients get a direct path', "04"),
    Term('layer normalisation', '层归一化', "rescaling each token's vector to mean 0 and variance 1", "04"),
    Term('vanishing gradient', '梯度消失', 'gradients shrinking step by step until early inputs get no signal', "04"),
    Term('long-range dependency', '长距离依赖', 'a label that depends on a token far from where the model is read out', "04"),
    Term('batch normalisation', '批归一化', 'scaling each channel by batch (then running) statistics', "05"),
    Term('heatmap', '热图', 'one map per joint, bright where the joint probably is', "05"),
    Term('soft-argmax', 'soft-argmax (可微分的 argmax)', 'the mean position under a probability map: sub-pixel and differentiable', "05"),
    Term('late fusion', '后期融合 (决策级融合)', "one classifier per modality; their class scores (logits) averaged", "06"),
    Term('product of experts', '专家乘积', "averaging logits multiplies the experts' probabilities: one sure expert can overrule", "06"),
    Term('gated multimodal unit', '门控多模态单元', 'a gate computed from all modalities decides, per feature, how much of each to keep', "06"),
    Term('tensor fusion', '张量融合', "the outer product of the modalities' vectors (each with a 1 appended): every cross-modal product", "06"),
    Term('low-rank tensor fusion', '低秩张量融合', "tensor fusion's weight as a sum of R per-modality factors; the product is never built", "06"),
    Term('transfer learning', '迁移学习', 'reusing an encoder trained on one task for another', "07"),
    Term('frozen encoder', '冻结的编码器', 'a pretrained encoder left untrained; its features can be computed once', "07"),
    Term('fine-tuning', '微调', 'training a pretrained encoder further on the new task', "07"),
    Term('masked language modelling', '掩码语言建模', "BERT's pretraining: hide some words and predict them", "07"),
    Term('stratified split', '分层划分', 'each class keeps its share in every part of the split', "07"),
    Term('F-beta score', 'Fβ 分数', 'F1 with recall weighted β times as much as precision', "08"),
    Term('adaptive ECE', '自适应校准误差', 'ECE with bins that hold equal numbers of samples', "08"),
    Term('paired bootstrap', '配对自助法', 'resampling the same samples for two models: an interval for their difference', "08"),
    Term('precision-recall curve, average precision', '精确率-召回率曲线, 平均精度', 'precision against recall over all thresholds, and its step-wise summary', "08"),
    Term('calibration', '校准', 'predicted probabilities that come true as often as they say', "08"),
    Term('expected calibration error (ECE)', '期望校准误差', "the gap between confidence and accuracy, bin by bin, weighted by the bins' sizes", "08"),
    Term('temperature scaling', '温度缩放', 'dividing every logit by one number T fitted on validation data', "08"),
    Term('confidence interval', '置信区间', 'a range that would hold the true value in 95 % of repeated experiments', "08"),
    Term('bootstrap', '自助法', 'resampling the test set with replacement to see how much a metric moves', "08"),
    Term("Cohen's kappa", '科恩卡帕系数', 'agreement between two raters beyond what chance would give', "08"),
    Term("McNemar's test", '麦克尼马尔检验', 'an exact test of two models judged on the same samples', "08"),
    Term('threshold moving', '阈值移动', 'changing the probability at which a model says "positive", without retraining', "09"),
    Term('oversampling', '过采样', 'repeating rare-class samples until the classes are even', "09"),
    Term('modality dropout', '模态丢弃', 'hiding whole modalities at random in training so that each learns alone', "09"),
    Term('cross-modal attention', '跨模态注意力', "one modality's query attending over another's parts: a word looking at image regions", "09"),
    Term('quantisation', '量化', 'storing weights (and computing) in fewer bits, e.g. int8', "09"),
    Term('pruning', '剪枝', 'setting small weights to 0; it saves only when stored or run sparsely', "09"),
    Term('knowledge distillation', '知识蒸馏', "training a small model on a big model's softened probabilities", "09"),
    Term('effective number of samples', '有效样本数', '(1 - β^n) / (1 - β): n samples of a class count as fewer, as new ones overlap the old', "09"),
    Term('logit matching', '对数几率匹配', "distillation's high-temperature limit: the squared gap between centred logits", "09"),
    Term('saliency map', '显著图', "|gradient of the score| per pixel: what a tiny change would move", "10"),
    Term('integrated gradients', '积分梯度', 'gradients averaged along a path from a baseline, times input minus baseline', "10"),
    Term('attribution baseline', '基线', 'the input that means "absent"; path and removal methods compare with it', "10"),
    Term('Shapley value (SHAP)', '夏普利值', "a player's extra payoff, averaged over every order of arrival", "10"),
    Term('LIME', '局部可解释模型无关解释', 'a linear model fitted to the scores of random perturbations near one input', "10"),
    Term('pointing game', '指向游戏', "is the heat map's peak on the object? counted against baselines", "10"),
    Term('randomisation test', '随机化检验', 'an explanation must change when the model\'s weights are re-initialised', "10"),
    Term('noise ceiling', '噪声上限', 'how similar two maps of the same model get anyway; a test must fall clearly below it', "10"),
    Term('Bonferroni correction', '邦费罗尼校正', 'testing each of k comparisons at p < 0.05 / k, so that any false "yes" stays below 0.05', "10"),
    Term('gradient × input', '梯度乘输入', 'each pixel times the gradient of the score with respect to it', "10"),
    Term('VarGrad', '梯度方差法', "the variance of the gradients over noisy copies of the input", "10"),

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
    Term('patch (image patch)', '图像块', 'a P x P square of an image, flattened into one token', "12"),
    Term('Vision Transformer (ViT)', '视觉 Transformer (视觉变换器)', 'a Transformer that reads an image as a sequence of patch tokens', "12"),
    Term('class token', '分类标记', 'a learned token in front of the patches whose final vector is the image feature', "12"),
    Term('cross-attention', '交叉注意力', "queries from one modality attend to the other's keys and values", "12"),
    Term('attention rollout', '注意力展开', 'multiplying the layers\' attention (with the residual) back to the input tokens', "12"),
    Term('learned queries', '可学习查询', 'a few trained vectors that gather N tokens into M (Perceiver, Q-Former)', "12"),

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


def as_markdown(terms=None, language: str = "en") -> str:
    """The glossary as a Markdown table, in the order of TERMS; for ``language="zh"`` the
    中文 column comes first."""
    if language not in ("en", "zh"):
        raise ValueError(f"language must be 'en' or 'zh', got {language!r}")

    def row(*cells):  # a "|" inside a cell ("|gradient|") would end it: escape it
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    terms = terms or TERMS
    if language == "en":
        rows = [row("English", "中文", "in one line")]
        rows += [row(t.english, t.chinese, t.meaning) for t in terms]
    else:
        rows = [row("中文", "English", "一句话说明（英文）")]
        rows += [row(t.chinese, t.english, t.meaning) for t in terms]
    return "\n".join([rows[0], "|---|---|---|", *rows[1:]])
