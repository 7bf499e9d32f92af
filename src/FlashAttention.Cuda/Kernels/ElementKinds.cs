using FlashAttention.Cuda.Ptx;

namespace FlashAttention.Cuda.Kernels;

/// <summary>
/// The 16-bit storage type of a kernel instantiation. Kernels are generic over it, so ILGPU specialises each one and
/// the instruction strings (mma type, conversion) are constants in the generated PTX.
/// </summary>
internal interface IElementKind
{
    /// <summary>d = a·b + c with m16n8k16 operands of this type and fp32 accumulation.</summary>
    Float4 Mma(Float4 c, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1);

    /// <summary>Rounds two floats to this type and packs them (lo in bits 0-15).</summary>
    uint Pack(float lo, float hi);

    /// <summary>The element in bits 0-15 of a packed pair, widened to float.</summary>
    float Low(uint pair);

    /// <summary>The element in bits 16-31 of a packed pair, widened to float.</summary>
    float High(uint pair);
}

/// <summary>IEEE fp16 storage.</summary>
internal readonly struct Fp16Kind : IElementKind
{
    public Float4 Mma(Float4 c, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1) =>
        PtxOps.MmaF16(c.X, c.Y, c.Z, c.W, a0, a1, a2, a3, b0, b1);

    public uint Pack(float lo, float hi) => PtxOps.PackF16(lo, hi);

    public float Low(uint pair) => PtxOps.HalfToFloat(pair);

    public float High(uint pair) => PtxOps.HalfToFloat(pair >> 16);
}

/// <summary>bfloat16 storage.</summary>
internal readonly struct Bf16Kind : IElementKind
{
    public Float4 Mma(Float4 c, uint a0, uint a1, uint a2, uint a3, uint b0, uint b1) =>
        PtxOps.MmaBf16(c.X, c.Y, c.Z, c.W, a0, a1, a2, a3, b0, b1);

    public uint Pack(float lo, float hi) => PtxOps.PackBf16(lo, hi);

    public float Low(uint pair) => ILGPU.Interop.IntAsFloat(pair << 16);

    public float High(uint pair) => ILGPU.Interop.IntAsFloat(pair & 0xFFFF0000u);
}

/// <summary>
/// How raw scores become base-2 logits, fixed per kernel instantiation. The kernels keep the row maximum of the
/// prepared scores and fold the final factor into one FFMA (exponent = prepared·ScaleLog2 − m), which needs the maximum
/// when that factor is positive and the minimum when it is negative.
/// </summary>
internal interface IScoreMode
{
    /// <summary>The prepared score (identity, or softcap's tanh); <paramref name="prepScale"/> is <see cref="ForwardParams.PrepScale"/>.</summary>
    float Prepare(float score, float prepScale);

    /// <summary>Combines two prepared scores into the one that is largest after scaling.</summary>
    float Reduce(float a, float b);

    /// <summary>The prepared score of a masked entry: it becomes -inf after scaling.</summary>
    float MaskFill { get; }

    /// <summary>
    /// d(prepared)/d(scale·score) at a prepared score, the factor the backward pass applies to dS (1 without softcap;
    /// 1 − tanh² with it).
    /// </summary>
    float Derivative(float prepared);

    /// <summary>Whether <see cref="Derivative"/> is anything but 1 (a constant: kernels without softcap skip it).</summary>
    bool HasDerivative { get; }
}

/// <summary>Plain softmax, scale ≥ 0 (the host passes a tiny positive scale for 0).</summary>
internal readonly struct PositiveScale : IScoreMode
{
    public float Prepare(float score, float prepScale) => score;

    public float Reduce(float a, float b) => PtxOps.Max(a, b);

    public float MaskFill => float.NegativeInfinity;

    public float Derivative(float prepared) => 1f;

    public bool HasDerivative => false;
}

/// <summary>Plain softmax, scale &lt; 0.</summary>
internal readonly struct NegativeScale : IScoreMode
{
    public float Prepare(float score, float prepScale) => score;

    public float Reduce(float a, float b) => PtxOps.Min(a, b);

    public float MaskFill => float.PositiveInfinity;

    public float Derivative(float prepared) => 1f;

    public bool HasDerivative => false;
}

/// <summary>
/// Soft capping, score = cap·tanh(scale·s/cap): the prepared score is tanh(scale·s/cap) = 1 − 2/(2^(2·log2(e)·scale·s/cap) + 1),
/// computed with ex2 and rcp (accurate to a few ulp, unlike tanh.approx), and ScaleLog2 = cap·log2(e) &gt; 0.
/// </summary>
internal readonly struct SoftcapScore : IScoreMode
{
    public float Prepare(float score, float prepScale) => 1f - 2f * PtxOps.Reciprocal(PtxOps.Exp2(score * prepScale) + 1f);

    public float Reduce(float a, float b) => PtxOps.Max(a, b);

    public float MaskFill => float.NegativeInfinity;

    public float Derivative(float prepared) => 1f - prepared * prepared;

    public bool HasDerivative => true;
}

/// <summary>
/// Optional score and probability features of a kernel instantiation (ALiBi bias, dropout). The kernels are generic over
/// it and test the properties below, which are constants per type, so ILGPU folds the branches away and the variant
/// without features compiles to the same code as a kernel that never had them.
/// </summary>
internal interface IFeatures
{
    /// <summary>Subtract slope·|i + Nk − Nq − j| (in base-2 units: the host passes slope·log2(e)).</summary>
    bool Alibi { get; }

    /// <summary>Zero the probabilities the Philox mask drops and scale the output by 1/(1 − p).</summary>
    bool Dropout { get; }

    /// <summary>
    /// Cosine attention: every logit is bounded by <see cref="ForwardParams.FixedShift"/>, which replaces the running
    /// maximum (no max reductions, no rescaling).
    /// </summary>
    bool FixedShift { get; }
}

/// <summary>Neither ALiBi nor dropout (the fast path).</summary>
internal readonly struct NoFeatures : IFeatures
{
    public bool FixedShift => false;

    public bool Alibi => false;

    public bool Dropout => false;
}

/// <summary>ALiBi only.</summary>
internal readonly struct AlibiFeature : IFeatures
{
    public bool FixedShift => false;

    public bool Alibi => true;

    public bool Dropout => false;
}

/// <summary>Dropout only.</summary>
internal readonly struct DropoutFeature : IFeatures
{
    public bool FixedShift => false;

    public bool Alibi => false;

    public bool Dropout => true;
}

/// <summary>ALiBi and dropout.</summary>
internal readonly struct AlibiDropoutFeatures : IFeatures
{
    public bool FixedShift => false;

    public bool Alibi => true;

    public bool Dropout => true;
}

/// <summary>Cosine attention (a fixed shift instead of the running maximum).</summary>
internal readonly struct CosineFeature : IFeatures
{
    public bool FixedShift => true;

    public bool Alibi => false;

    public bool Dropout => false;
}

/// <summary>Cosine attention with dropout.</summary>
internal readonly struct CosineDropoutFeatures : IFeatures
{
    public bool FixedShift => true;

    public bool Alibi => false;

    public bool Dropout => true;
}

/// <summary>
/// The token layout an attention kernel (forward, dQ, dK/dV, returned softmax) is instantiated for. Dense tensors keep the
/// sequence lengths in the kernel's parameters; packed ones (cu_seqlens) read each sequence's start and length from
/// device memory, which the JIT must then keep in registers through the key loop — so the dense kernels do not pay for it.
/// </summary>
internal interface ISequenceLayout
{
    /// <summary>Whether the tokens are packed sequences described by cu_seqlens.</summary>
    bool Packed { get; }
}

/// <summary>Dense [batch, seqlen, heads, head dim] tensors.</summary>
internal readonly struct DenseLayout : ISequenceLayout
{
    /// <inheritdoc />
    public bool Packed => false;
}

/// <summary>Packed tokens [total, heads, head dim] with cu_seqlens.</summary>
internal readonly struct PackedLayout : ISequenceLayout
{
    /// <inheritdoc />
    public bool Packed => true;
}
