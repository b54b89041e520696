/** The echo sample: the smallest server and client pair, and the demo of pipelined calls. */
package io.pbj.samples.echo;
