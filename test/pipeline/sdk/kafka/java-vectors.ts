// Fixed vectors of Kafka's own Java compressors (kafka-clients 4.4.0 `Compression.<codec>().build()
// .wrapForOutput(buffer, magic 2)`, i.e. exactly what a Java producer puts in a record batch, plus a
// snappy-java SnappyOutputStream with 1 KiB blocks for a multi-block xerial stream), all of JAVA_VECTOR_INPUT.
// Made once with a single-file Java program on the stack's Kafka jars:
//   byte[] in = "tusk-collector codec vector 0123456789 ".repeat(64).getBytes("UTF-8");
//   OutputStream os = Compression.snappy().build().wrapForOutput(new ByteBufferOutputStream(1024), (byte) 2);
//   os.write(in); os.close();   // likewise lz4(), zstd(); and new SnappyOutputStream(out, 1024)
// The zstd frame is a streaming one (zstd-jni): no declared content size.

/** The plaintext of every vector (2496 bytes). */
export const JAVA_VECTOR_INPUT = Buffer.from('tusk-collector codec vector 0123456789 '.repeat(64), 'utf8');

/** Compressed JAVA_VECTOR_INPUT, by codec. */
export const JAVA_VECTORS = {
  snappy: Buffer.from(
    '82534e415050590000000001000000010000009cc013547475736b2d636f6c6c6563746f7220636f6465632076090d28' +
      '3031323334353637383920fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe' +
      '2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe' +
      '2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700622700',
    'hex',
  ),
  snappy1kBlocks: Buffer.from(
    '82534e41505059000000000100000001000000578008547475736b2d636f6c6c6563746f7220636f6465632076090d28' +
      '3031323334353637383920fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe' +
      '2700fe2700fe27006227000000005980083063746f7220636f646563207665050d4c3031323334353637383920747573' +
      '6b2d636f6c6c091afe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe2700fe' +
      '2700fe27004e27000000003cc0036c20766563746f722030313233343536373839207475736b2d636f6c6c091a10636f' +
      '646563fe2700fe2700fe2700fe2700fe2700fe2700622700',
    'hex',
  ),
  lz4: Buffer.from(
    '04224d1860408238000000f2077475736b2d636f6c6c6563746f7220636f64656320760d00bf30313233343536373839' +
      '202700ffffffffffffffffff8a50363738392000000000',
    'hex',
  ),
  zstd: Buffer.from(
    '28b52ffd005864010014027475736b2d636f6c6c6563746f7220636f6465632076303132333435363738392002009651' +
      'ca7b80cd26010000',
    'hex',
  ),
};
