using System.Text;
using FlashAttention.Cli;
using Xunit;

namespace FlashAttention.Tests;

/// <summary>The .npy reader and writer: byte-exact NumPy headers, every supported dtype, header versions 1.0–3.0, and the errors.</summary>
public sealed class NpyTests
{
    [Fact]
    public void HeaderIsByteForByteWhatNumPyWrites()
    {
        // np.save(f, np.zeros((2, 3), np.float32)) writes version 1.0, header length 118 ('v'), data at byte 128:
        // the 59-character dict, 20 spaces reserved for the first axis to grow, 38 of alignment padding, a newline.
        var stream = new MemoryStream();
        Npy.Write<float>(stream, new float[6], [2, 3]);
        var bytes = stream.ToArray();
        Assert.Equal(128 + 24, bytes.Length);
        Assert.Equal(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 118, 0 }, bytes[..10]);
        string header = Encoding.Latin1.GetString(bytes, 10, 118);
        Assert.Equal("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + new string(' ', 58) + "\n", header);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RoundTripsEveryDtypeAndHeaderVersion(int version)
    {
        var f4 = new[] { 1.5f, -2.25f, float.PositiveInfinity, 0f, 3e-8f, -0f };
        var f2 = new[] { (Half)1.5f, (Half)(-2.25f), Half.NegativeInfinity, (Half)65504f };
        var i4 = new[] { 0, 3, -7, int.MaxValue };
        var i8 = new[] { 0L, 5L, 1L << 40 };
        var b1 = new[] { true, false, true };
        var u1 = new byte[] { 0, 1, 255 };

        Assert.Equal(f4, RoundTrip(f4, [2, 3], version, NpyDtype.Float32).ToSingle());
        var half = RoundTrip(f2, [4], version, NpyDtype.Float16);
        Assert.Equal(f2, half.ToElements<Half>());
        Assert.Equal(f2.Select(h => (float)h), half.ToSingle());
        Assert.Equal(i4, RoundTrip(i4, [1, 4], version, NpyDtype.Int32).ToInt32());
        Assert.Equal(new[] { false, true, true }, RoundTrip(i8, [3], version, NpyDtype.Int64).ToBool());
        Assert.Equal(b1, RoundTrip(b1, [3, 1, 1], version, NpyDtype.Bool).ToBool());
        Assert.Equal(new[] { false, true, true }, RoundTrip(u1, [3], version, NpyDtype.UInt8).ToBool());
        Assert.Equal(7f, RoundTrip(new[] { 7f }, [], version, NpyDtype.Float32).ToSingle().Single()); // 0-d array: shape ()
        Assert.Empty(RoundTrip(Array.Empty<float>(), [0, 5], version, NpyDtype.Float32).ToSingle());
    }

    private static NpyArray RoundTrip<T>(T[] data, long[] shape, int version, NpyDtype dtype) where T : unmanaged
    {
        var stream = new MemoryStream();
        Npy.Write<T>(stream, data, shape, version);
        var bytes = stream.ToArray();
        Assert.Equal(version, bytes[6]);
        int headerEnd = version == 1 ? 10 + BitConverter.ToUInt16(bytes, 8) : 12 + BitConverter.ToInt32(bytes, 8);
        Assert.Equal(0, headerEnd % 64); // data aligned as NumPy aligns it
        Assert.Equal((byte)'\n', bytes[headerEnd - 1]);
        stream.Position = 0;
        var array = Npy.Read(stream, "x.npy");
        Assert.Equal(dtype, array.Dtype);
        Assert.Equal(shape, array.Shape);
        return array;
    }

    [Fact]
    public void ReadsHandWrittenHeaders()
    {
        // Key order, quoting, spacing and Python 2's long suffix vary between writers; a v2.0 header with a 4-byte length.
        var a = ReadRaw(2, "{\"shape\":(3L,) ,'fortran_order':False,'descr':'<i4'}", [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
        Assert.Equal(new long[] { 3 }, a.Shape);
        Assert.Equal(new[] { 1, 2, 3 }, a.ToInt32());
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", "Fortran")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", "<f8")]
    [InlineData("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", ">f4")]
    [InlineData("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", "structured")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", "truncated")]
    [InlineData("{'descr': '<f4', 'shape': (2,), }", "malformed")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,-1), }", "malformed")]
    [InlineData("not a dict", "malformed")]
    public void RejectsWhatItCannotRead(string header, string reason)
    {
        var e = Assert.Throws<CliException>(() => ReadRaw(1, header, new byte[8]));
        Assert.StartsWith("x.npy: ", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void RejectsOtherFilesAndVersions()
    {
        Assert.Contains("not a .npy file", Assert.Throws<CliException>(() => Npy.Read(new MemoryStream("PK\x03\x04zip"u8.ToArray()), "x.npy")).Message);
        var v4 = new MemoryStream([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 4, 0, 0, 0]);
        Assert.Contains("version 4.0", Assert.Throws<CliException>(() => Npy.Read(v4, "x.npy")).Message);
        Assert.Contains("file not found", Assert.Throws<CliException>(() => Npy.Read("/nonexistent/dir/x.npy")).Message);
    }

    private static NpyArray ReadRaw(int version, string header, byte[] payload)
    {
        var stream = new MemoryStream();
        var text = Encoding.Latin1.GetBytes(header + "\n");
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)version, 0]);
        if (version == 1)
            stream.Write(BitConverter.GetBytes((ushort)text.Length));
        else
            stream.Write(BitConverter.GetBytes((uint)text.Length));
        stream.Write(text);
        stream.Write(payload);
        stream.Position = 0;
        return Npy.Read(stream, "x.npy");
    }
}
