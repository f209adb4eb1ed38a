// Netty 4 echo server for the bench suite: lines or 4-byte length frames, one NIO event loop thread for accept and I/O.
//
// Usage: java -cp <netty jars>:<dir> EchoServer <lines|length> <cut|new|string>
// Prints `listening <port>` once bound to 127.0.0.1 (port 0), then runs until stdin closes or SIGTERM.

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LineBasedFrameDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

public final class EchoServer {
  /** Largest line (without its `\n`) or length-frame payload accepted. */
  private static final int MAX_FRAME = 65536;

  private enum Reply {
    CUT,
    NEW,
    STRING
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 2
        || !(args[0].equals("lines") || args[0].equals("length"))
        || !(args[1].equals("cut") || args[1].equals("new") || args[1].equals("string"))) {
      System.err.println("usage: EchoServer <lines|length> <cut|new|string>");
      System.exit(2);
    }
    final boolean lines = args[0].equals("lines");
    Reply reply = Reply.valueOf(args[1].toUpperCase());
    // A length frame has no text to decode: `string` answers with a new buffer, as `new` does.
    final Reply style = !lines && reply == Reply.STRING ? Reply.NEW : reply;

    exitOnTerm();
    exitWhenStdinCloses();

    // One thread accepts and serves every connection: one core, as a Node process has.
    EventLoopGroup loop = new NioEventLoopGroup(1);
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(loop, loop)
        .channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_BACKLOG, 4096)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(
                lines
                    ? new LineBasedFrameDecoder(MAX_FRAME, false, true)
                    : new LengthFieldBasedFrameDecoder(MAX_FRAME + 4, 0, 4, 0, 0),
                new Echo(style));
          }
        });
    Channel server = bootstrap.bind("127.0.0.1", 0).sync().channel();
    int port = ((InetSocketAddress) server.localAddress()).getPort();
    System.out.println("listening " + port);
    System.out.flush();
    server.closeFuture().sync();
  }

  /** Writes each frame back; flushes once per read batch; stops reading while the channel is unwritable. */
  private static final class Echo extends ChannelInboundHandlerAdapter {
    private final Reply style;

    Echo(Reply style) {
      this.style = style;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf frame = (ByteBuf) msg;
      switch (style) {
        case CUT:
          ctx.write(frame);
          break;
        case NEW: {
          ByteBuf copy = ctx.alloc().buffer(frame.readableBytes()).writeBytes(frame);
          frame.release();
          ctx.write(copy);
          break;
        }
        case STRING: {
          // The line without its `\n` (a `\r` before it stays part of the text).
          String line = frame.toString(frame.readerIndex(), frame.readableBytes() - 1, StandardCharsets.UTF_8);
          frame.release();
          ctx.write(ByteBufUtil.writeUtf8(ctx.alloc(), line + "\n"));
          break;
        }
      }
      if (!ctx.channel().isWritable()) ctx.channel().config().setAutoRead(false);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (ctx.channel().isWritable()) ctx.channel().config().setAutoRead(true);
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // A reset peer or an oversized frame ends this connection only.
      ctx.close();
    }
  }

  private static void exitWhenStdinCloses() {
    Thread watcher = new Thread(() -> {
      byte[] buffer = new byte[256];
      try {
        InputStream in = System.in;
        while (in.read(buffer) >= 0) {
          // The runner never writes; only EOF matters.
        }
      } catch (IOException ignored) {
        // A broken stdin means the runner is gone too.
      }
      System.exit(0);
    }, "stdin-watch");
    watcher.setDaemon(true);
    watcher.start();
  }

  /** SIGTERM exits 0 (the JVM's own handler would exit 143). */
  private static void exitOnTerm() {
    sun.misc.Signal.handle(new sun.misc.Signal("TERM"), signal -> System.exit(0));
  }
}
