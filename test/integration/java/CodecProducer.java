// Interop fixture of test/integration/kafka-codecs.test.ts: Kafka's own Java producer (kafka-clients from
// the stack's Kafka jars) writes records with a chosen compression.type, so the test can check that our
// kafkajs-based receiver reads what a Java/JVM fleet writes. Run in single-file source mode:
//   java -cp '<kafka libs>/*' CodecProducer.java <bootstrap> <topic>=<codec> [<topic>=<codec> ...] < records
// stdin: records of [int16 topic length][topic UTF-8][int32 key length][key][int32 value length][value];
// each topic's records go through one producer configured with that topic's codec (acks=all, idempotent).
// Prints "sent <n>" once every record is acknowledged; exits non-zero on any failure.

import java.io.DataInputStream;
import java.io.EOFException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class CodecProducer {
  public static void main(String[] args) throws Exception {
    if (args.length < 2) throw new IllegalArgumentException("usage: CodecProducer <bootstrap> <topic>=<codec>...");
    Map<String, KafkaProducer<byte[], byte[]>> producers = new HashMap<>();
    for (int i = 1; i < args.length; i++) {
      String[] tc = args[i].split("=", 2);
      Properties p = new Properties();
      p.put("bootstrap.servers", args[0]);
      p.put("compression.type", tc[1]);
      p.put("acks", "all");
      p.put("enable.idempotence", "true");
      p.put("linger.ms", "20");
      p.put("client.id", "tusk-codec-interop-" + tc[1]);
      producers.put(tc[0], new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer()));
    }
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    DataInputStream in = new DataInputStream(System.in);
    try {
      while (true) {
        int topicLen;
        try {
          topicLen = in.readUnsignedShort();
        } catch (EOFException end) {
          break;
        }
        byte[] topic = new byte[topicLen];
        in.readFully(topic);
        byte[] key = new byte[in.readInt()];
        in.readFully(key);
        byte[] value = new byte[in.readInt()];
        in.readFully(value);
        String t = new String(topic, "UTF-8");
        KafkaProducer<byte[], byte[]> producer = producers.get(t);
        if (producer == null) throw new IllegalArgumentException("record for topic " + t + " without a codec argument");
        sent.add(producer.send(new ProducerRecord<>(t, key, value)));
      }
      for (Future<RecordMetadata> f : sent) f.get();
    } finally {
      for (KafkaProducer<byte[], byte[]> producer : producers.values()) producer.close();
    }
    System.out.println("sent " + sent.size());
  }
}
