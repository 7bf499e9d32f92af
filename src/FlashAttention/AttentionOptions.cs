namespace FlashAttention;

/// <summary>Which normalisation of the scores the kernel uses.</summary>
public enum AttentionVariant
{
    /// <summary>Standard scaled dot-product attention: softmax(scale · q·kᵀ) with a running row max.</summary>
    Softmax,

    /// <summary>
    /// Cosine-similarity attention: q and k are L2-normalised (per group of the head dimension),
    /// so every score is bounded by <see cref="AttentionOptions.CosineScale"/> times the group count
    /// and the kernel needs no running max.
    /// </summary>
    Cosine,
}

/// <summary>
/// Everything a caller can ask of an attention call besides its tensors. The same options drive
/// forward and backward: pass the same instance to both so the backward pass recomputes exactly
/// what the forward pass computed (including the dropout mask).
/// </summary>
public sealed record AttentionOptions
{
    /// <summary>The shared default: plain softmax attention with scale 1/√headdim.</summary>
    public static AttentionOptions Default { get; } = new();

    /// <summary>Softmax scale applied to q·kᵀ; <c>null</c> means 1/√headdim. Ignored by the cosine variant, which uses <see cref="CosineScale"/>.</summary>
    public float? Scale { get; init; }

    /// <summary>Causal masking aligned to the bottom-right corner: query i sees key j when j ≤ i + seqlen_k − seqlen_q.</summary>
    public bool Causal { get; init; }

    /// <summary>Sliding window: how many keys left of the (bottom-right aligned) diagonal a query sees; −1 for unlimited.</summary>
    public int WindowLeft { get; init; } = -1;

    /// <summary>Sliding window: how many keys right of the diagonal a query sees; −1 for unlimited (causal forces 0).</summary>
    public int WindowRight { get; init; } = -1;

    /// <summary>Soft capping of the scores: score = cap·tanh(score/cap), applied after scaling; 0 turns it off.</summary>
    public float Softcap { get; init; }

    /// <summary>
    /// ALiBi slopes, shape [heads] or [batch, heads]: score −= slope·|i + seqlen_k − seqlen_q − j|.
    /// Empty turns ALiBi off.
    /// </summary>
    public ReadOnlyMemory<float> AlibiSlopes { get; init; }

    /// <summary>
    /// Key padding mask, shape [batch, seqlen_k] (for variable-length calls [batch, max_seqlen_k]):
    /// <c>true</c> keeps a key, <c>false</c> hides it from every query. Empty turns it off.
    /// </summary>
    public ReadOnlyMemory<bool> KeyPaddingMask { get; init; }

    /// <summary>Dropout probability applied to the attention probabilities, in [0, 1).</summary>
    public float DropoutP { get; init; }

    /// <summary>Seed of the Philox4x32-10 generator that decides which probabilities are dropped.</summary>
    public ulong Seed { get; init; }

    /// <summary>Offset of the generator (advance it between calls that share a seed to get fresh masks).</summary>
    public ulong Offset { get; init; }

    /// <summary>Softmax (default) or cosine-similarity attention.</summary>
    public AttentionVariant Variant { get; init; } = AttentionVariant.Softmax;

    /// <summary>The fixed scale of cosine-similarity attention (default 8).</summary>
    public float CosineScale { get; init; } = 8f;

    /// <summary>Cosine variant: the head dimension is split into this many equal groups, each L2-normalised on its own (default 1).</summary>
    public int CosineGroups { get; init; } = 1;

    /// <summary>Cosine variant: normalise q and k inside the kernel (default). Set to <c>false</c> when the caller already did.</summary>
    public bool L2NormalizeQK { get; init; } = true;

    /// <summary>
    /// Backward pass: make the gradients independent of how the hardware schedules the work. The CPU backend always is
    /// (for a given <see cref="MaxDegreeOfParallelism"/>); on the GPU this computes dQ in a pass of its own instead of
    /// accumulating it with float atomics, whose order varies from run to run (slower: two products more per tile).
    /// </summary>
    public bool Deterministic { get; init; }

    /// <summary>The most threads a call may use; −1 (default) uses every core.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;
}
