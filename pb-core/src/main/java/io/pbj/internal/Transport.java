package io.pbj.internal;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.local.LocalServerChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The two transports: TCP (epoll where available, NIO otherwise) and in-process (Netty's local
 * channels). Both carry the same pipeline.
 *
 * <p>Thread-safety: immutable.
 */
public enum Transport {
  TCP,
  IN_PROCESS;

  private static final boolean EPOLL = epollAvailable();

  private static boolean epollAvailable() {
    try {
      return !Boolean.getBoolean("io.pbj.noEpoll") && Epoll.isAvailable();
    } catch (Throwable t) {
      return false;
    }
  }

  public EventLoopGroup newGroup(int threads, String name) {
    IoHandlerFactory factory;
    if (this == IN_PROCESS) {
      factory = LocalIoHandler.newFactory();
    } else if (EPOLL) {
      factory = EpollIoHandler.newFactory();
    } else {
      factory = NioIoHandler.newFactory();
    }
    return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(name, true), factory);
  }

  public Class<? extends ServerChannel> serverChannel() {
    if (this == IN_PROCESS) {
      return LocalServerChannel.class;
    }
    return EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  public Class<? extends Channel> channel() {
    if (this == IN_PROCESS) {
      return LocalChannel.class;
    }
    return EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
  }
}
