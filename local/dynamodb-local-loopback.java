// Starts DynamoDB Local bound to one address (127.0.0.1 by default) instead of every interface.
//
// DynamoDB Local has no bind-address option: `ServerRunner` builds a Jetty `Server(port)`, whose
// connector listens on all interfaces. This launcher builds the same server from the same command line,
// sets the host of each of its connectors before it starts, and checks the result. It uses reflection
// only, so it compiles without DynamoDB Local on the class path, and it fails loudly (exit 3) if a
// future DynamoDB Local no longer has the `server` field it relies on.
//
// Run: java -cp DynamoDBLocal.jar:<this class's folder> [-Dauditseal.host=127.0.0.1] \
//        DynamoDbLocalLoopback <DynamoDB Local's own arguments>
// Compiled once by local/dynamodb-local.ts into the jar cache.

import java.lang.reflect.Field;

final class DynamoDbLocalLoopback {
  private DynamoDbLocalLoopback() {}

  public static void main(String[] args) throws Exception {
    String host = System.getProperty("auditseal.host", "127.0.0.1");
    Class<?> runner = Class.forName("com.amazonaws.services.dynamodbv2.local.main.ServerRunner");
    Object proxy;
    try {
      proxy = runner.getMethod("createServerFromCommandLineArgs", String[].class).invoke(null, (Object) args);
    } catch (java.lang.reflect.InvocationTargetException e) {
      System.err.println("DynamoDB Local refused its arguments: " + e.getCause());
      System.exit(2);
      return;
    }
    Object[] connectors;
    try {
      Field field = proxy.getClass().getDeclaredField("server");
      field.setAccessible(true);
      Object server = field.get(proxy);
      connectors = (Object[]) server.getClass().getMethod("getConnectors").invoke(server);
      for (Object connector : connectors) {
        connector.getClass().getMethod("setHost", String.class).invoke(connector, host);
      }
    } catch (ReflectiveOperationException | ClassCastException e) {
      System.err.println("cannot bind DynamoDB Local to " + host + ": its internals changed (" + e + ")");
      System.exit(3);
      return;
    }
    if (connectors.length == 0) {
      System.err.println("cannot bind DynamoDB Local to " + host + ": it has no connector");
      System.exit(3);
    }
    proxy.getClass().getMethod("start").invoke(proxy);
    for (Object connector : connectors) {
      Object bound = connector.getClass().getMethod("getHost").invoke(connector);
      if (!host.equals(bound)) {
        System.err.println("DynamoDB Local listens on " + bound + ", not " + host);
        System.exit(3);
      }
    }
    System.out.println("DynamoDB Local listening on " + host);
  }
}
