// Cql.java - runs CQL statements against one Cassandra node, for
// scripts/cassandra.sh (`cql NODE STATEMENT...`): dropping test keyspaces,
// looking at system tables. There is no cqlsh here (it needs Python and a
// separate download); this runs on the DataStax Java driver that cassandra-all
// already depends on, as a single-file source program (java Cql.java).
//
//   java -cp <cassandra classpath> Cql.java ADDRESS STATEMENT...
//
// Prints each result row as tab-separated columns. Exits 1 on the first
// statement that fails, with the error on stderr.
import com.datastax.driver.core.Cluster;
import com.datastax.driver.core.ColumnDefinitions;
import com.datastax.driver.core.QueryOptions;
import com.datastax.driver.core.ResultSet;
import com.datastax.driver.core.Row;
import com.datastax.driver.core.Session;
import com.datastax.driver.core.SocketOptions;
import java.util.ArrayList;
import java.util.List;

public class Cql {
  public static void main(String[] args) {
    if (args.length < 2) {
      System.err.println("usage: Cql ADDRESS STATEMENT...");
      System.exit(2);
    }
    // Schema changes wait for every live node to agree; allow for a slow,
    // busy test machine.
    SocketOptions so = new SocketOptions().setReadTimeoutMillis(60000).setConnectTimeoutMillis(10000);
    try (Cluster cluster = Cluster.builder().addContactPoint(args[0]).withoutJMXReporting()
             .withoutMetrics().withSocketOptions(so).withPort(9042)
             // No schema metadata: it is not needed, and its background
             // refresh logs errors when it races with close().
             .withQueryOptions(new QueryOptions().setMetadataEnabled(false))
             .build();
         Session session = cluster.connect()) {
      for (int i = 1; i < args.length; i++) {
        ResultSet rs = session.execute(args[i]);
        ColumnDefinitions defs = rs.getColumnDefinitions();
        for (Row row : rs) {
          List<String> cols = new ArrayList<>();
          for (int c = 0; c < defs.size(); c++) {
            Object v = row.getObject(c);
            cols.add(v == null ? "null" : v.toString());
          }
          System.out.println(String.join("\t", cols));
        }
      }
    } catch (RuntimeException e) {
      System.err.println("cql: " + e.getMessage());
      System.exit(1);
    }
  }
}
