namespace FlashAttention;

/// <summary>Where one score sits: the coordinates a score or mask modifier may depend on.</summary>
/// <param name="Batch">Sequence index.</param>
/// <param name="Head">Query head index.</param>
/// <param name="QueryIndex">Query position inside its sequence.</param>
/// <param name="KeyIndex">Key position inside its sequence (for a row call: the first key of the row).</param>
/// <param name="SeqLenQ">Query length of this sequence.</param>
/// <param name="SeqLenK">Key length of this sequence.</param>
public readonly record struct ScorePosition(int Batch, int Head, int QueryIndex, int KeyIndex, int SeqLenQ, int SeqLenK);

/// <summary>A rectangle of the score matrix that a kernel processes as one tile (ends exclusive).</summary>
/// <param name="Batch">Sequence index.</param>
/// <param name="Head">Query head index.</param>
/// <param name="QueryStart">First query row.</param>
/// <param name="QueryEnd">One past the last query row.</param>
/// <param name="KeyStart">First key column.</param>
/// <param name="KeyEnd">One past the last key column.</param>
/// <param name="SeqLenQ">Query length of this sequence.</param>
/// <param name="SeqLenK">Key length of this sequence.</param>
public readonly record struct TileBounds(int Batch, int Head, int QueryStart, int QueryEnd, int KeyStart, int KeyEnd, int SeqLenQ, int SeqLenK);

/// <summary>How much of a tile a mask lets through; kernels skip empty tiles and do no per-element work on full ones.</summary>
public enum BlockCoverage
{
    /// <summary>Every score of the tile is masked: the tile is skipped.</summary>
    Empty,

    /// <summary>Some scores are masked: the mask is applied element by element.</summary>
    Partial,

    /// <summary>No score is masked: the mask costs nothing on this tile.</summary>
    Full,
}

/// <summary>
/// A score modifier (FlexAttention's score_mod): replaces each scaled score s by f(s, position).
/// Kernels are generic over the implementing struct, so the JIT specialises and inlines it.
/// Implement the scalar pair; <see cref="ApplyRow"/> may call <see cref="ScoreMods.ApplyEach{TMod}"/>
/// or vectorise. The backward pass needs df/ds, hence <see cref="Derivative"/>.
/// </summary>
public interface IScoreMod
{
    /// <summary>f(score) at one position.</summary>
    /// <param name="score">The scaled score.</param>
    /// <param name="at">Where the score sits.</param>
    float Apply(float score, in ScorePosition at);

    /// <summary>df/dscore at one position, evaluated at the unmodified score.</summary>
    /// <param name="score">The scaled score before modification.</param>
    /// <param name="at">Where the score sits.</param>
    float Derivative(float score, in ScorePosition at);

    /// <summary>
    /// Modifies a run of consecutive keys of one query row in place; when <paramref name="derivatives"/> is not empty,
    /// also writes df/ds for each (same length as <paramref name="scores"/>).
    /// </summary>
    /// <param name="scores">Scores of keys rowStart.KeyIndex, rowStart.KeyIndex+1, …</param>
    /// <param name="derivatives">Empty, or where to write the derivatives.</param>
    /// <param name="rowStart">The position of the first score.</param>
    void ApplyRow(Span<float> scores, Span<float> derivatives, in ScorePosition rowStart);
}

/// <summary>
/// A mask modifier (FlexAttention's mask_mod): decides which (query, key) pairs may attend.
/// <see cref="Classify"/> lets kernels skip whole tiles; it must never call a tile Full or Empty
/// when it is not.
/// </summary>
public interface IMaskMod
{
    /// <summary>Whether the query at <paramref name="at"/> may see the key at <paramref name="at"/>.</summary>
    /// <param name="at">The pair.</param>
    bool IsVisible(in ScorePosition at);

    /// <summary>Whether a tile is entirely hidden, entirely visible or mixed. Answering Partial is always safe.</summary>
    /// <param name="tile">The tile.</param>
    BlockCoverage Classify(in TileBounds tile);

    /// <summary>Sets the hidden scores of a run of consecutive keys of one query row to −∞.</summary>
    /// <param name="scores">Scores of keys rowStart.KeyIndex, rowStart.KeyIndex+1, …</param>
    /// <param name="rowStart">The position of the first score.</param>
    void ApplyRow(Span<float> scores, in ScorePosition rowStart);
}

/// <summary>Helpers for writing <see cref="IScoreMod"/> and <see cref="IMaskMod"/> implementations.</summary>
public static class ScoreMods
{
    /// <summary>The scalar implementation of <see cref="IScoreMod.ApplyRow"/>: calls Apply (and Derivative) per element.</summary>
    /// <typeparam name="TMod">The modifier.</typeparam>
    /// <param name="mod">The modifier.</param>
    /// <param name="scores">Scores to modify in place.</param>
    /// <param name="derivatives">Empty, or where to write the derivatives.</param>
    /// <param name="rowStart">The position of the first score.</param>
    public static void ApplyEach<TMod>(in TMod mod, Span<float> scores, Span<float> derivatives, in ScorePosition rowStart)
        where TMod : struct, IScoreMod
    {
        bool wantDerivatives = !derivatives.IsEmpty;
        for (int j = 0; j < scores.Length; j++)
        {
            var at = rowStart with { KeyIndex = rowStart.KeyIndex + j };
            float s = scores[j];
            if (wantDerivatives)
                derivatives[j] = mod.Derivative(s, at);
            scores[j] = mod.Apply(s, at);
        }
    }

    /// <summary>The scalar implementation of <see cref="IMaskMod.ApplyRow"/>: calls IsVisible per element.</summary>
    /// <typeparam name="TMask">The mask.</typeparam>
    /// <param name="mask">The mask.</param>
    /// <param name="scores">Scores to mask in place.</param>
    /// <param name="rowStart">The position of the first score.</param>
    public static void MaskEach<TMask>(in TMask mask, Span<float> scores, in ScorePosition rowStart)
        where TMask : struct, IMaskMod
    {
        for (int j = 0; j < scores.Length; j++)
            if (!mask.IsVisible(rowStart with { KeyIndex = rowStart.KeyIndex + j }))
                scores[j] = float.NegativeInfinity;
    }
}
