namespace FlashAttention;

/// <summary>Receives the fully composed score modifier and mask of a call, as concrete struct types.</summary>
internal interface IModConsumer
{
    void Run<TScore, TMask>(TScore score, TMask mask)
        where TScore : struct, IScoreMod
        where TMask : struct, IMaskMod;
}

/// <summary>
/// Turns the options of a call into struct modifiers and hands them, composed with the caller's own, to a kernel.
/// Built-in options go through exactly the mechanism a user's modifier does; an option that is off contributes
/// <see cref="NoScoreMod"/> or <see cref="NoMask"/>, which specialise to nothing.
/// Order: softcap, then ALiBi, then the caller's score modifier; the local window, the key padding, then the caller's mask.
/// </summary>
internal static class ModDispatch
{
    public static void Run<TConsumer, TUserScore, TUserMask>(AttentionProblem p, TUserScore userScore, TUserMask userMask, ref TConsumer consumer)
        where TConsumer : struct, IModConsumer
        where TUserScore : struct, IScoreMod
        where TUserMask : struct, IMaskMod
    {
        bool softcap = p.Softcap > 0, alibi = p.AlibiSlopes is not null;
        if (softcap && alibi)
            WithScore(p, new ChainedScoreMod<SoftcapScoreMod, AlibiScoreMod>(new SoftcapScoreMod(p.Softcap), Alibi(p)), userScore, userMask, ref consumer);
        else if (softcap)
            WithScore(p, new SoftcapScoreMod(p.Softcap), userScore, userMask, ref consumer);
        else if (alibi)
            WithScore(p, Alibi(p), userScore, userMask, ref consumer);
        else
            WithScore(p, default(NoScoreMod), userScore, userMask, ref consumer);
    }

    private static AlibiScoreMod Alibi(AttentionProblem p) => new(p.AlibiSlopes, p.AlibiPerBatch, p.Heads);

    private static void WithScore<TConsumer, TBuiltin, TUserScore, TUserMask>(AttentionProblem p, TBuiltin builtin, TUserScore userScore, TUserMask userMask, ref TConsumer consumer)
        where TConsumer : struct, IModConsumer
        where TBuiltin : struct, IScoreMod
        where TUserScore : struct, IScoreMod
        where TUserMask : struct, IMaskMod
    {
        if (typeof(TUserScore) == typeof(NoScoreMod))
            WithMask(p, builtin, userMask, ref consumer);
        else if (typeof(TBuiltin) == typeof(NoScoreMod))
            WithMask(p, userScore, userMask, ref consumer);
        else
            WithMask(p, new ChainedScoreMod<TBuiltin, TUserScore>(builtin, userScore), userMask, ref consumer);
    }

    private static void WithMask<TConsumer, TScore, TUserMask>(AttentionProblem p, TScore score, TUserMask userMask, ref TConsumer consumer)
        where TConsumer : struct, IModConsumer
        where TScore : struct, IScoreMod
        where TUserMask : struct, IMaskMod
    {
        bool local = p.HasWindow, padding = p.KeyMask is not null;
        if (local && padding)
            Finish(score, new CombinedMask<LocalWindowMask, KeyPaddingMask>(Local(p), Padding(p)), userMask, ref consumer);
        else if (local)
            Finish(score, Local(p), userMask, ref consumer);
        else if (padding)
            Finish(score, Padding(p), userMask, ref consumer);
        else
            Finish(score, default(NoMask), userMask, ref consumer);
    }

    private static LocalWindowMask Local(AttentionProblem p) => new(p.WindowLeft, p.WindowRight);

    private static KeyPaddingMask Padding(AttentionProblem p) => new(p.KeyMask, p.Batch, p.MaxSeqK);

    private static void Finish<TConsumer, TScore, TBuiltinMask, TUserMask>(TScore score, TBuiltinMask builtin, TUserMask userMask, ref TConsumer consumer)
        where TConsumer : struct, IModConsumer
        where TScore : struct, IScoreMod
        where TBuiltinMask : struct, IMaskMod
        where TUserMask : struct, IMaskMod
    {
        if (typeof(TUserMask) == typeof(NoMask))
            consumer.Run(score, builtin);
        else if (typeof(TBuiltinMask) == typeof(NoMask))
            consumer.Run(score, userMask);
        else
            consumer.Run(score, new CombinedMask<TBuiltinMask, TUserMask>(builtin, userMask));
    }
}
