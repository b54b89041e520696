package io.pbj.cred;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CredentialsTest {
  @Test
  void credentialsAreEqualForTheSameUserAndPasswordOnly() {
    assertThat(Credentials.password("alice", "secret"))
        .isEqualTo(Credentials.password("alice", "secret"))
        .hasSameHashCodeAs(Credentials.password("alice", "secret"))
        .isNotEqualTo(Credentials.password("alice", "Secret"))
        .isNotEqualTo(Credentials.password("bob", "secret"))
        .isNotEqualTo(Credentials.anonymous());
    assertThat(Credentials.anonymous()).isEqualTo(Credentials.anonymous());
  }

  @Test
  void hashCodeAndTextDoNotDependOnThePassword() {
    assertThat(Credentials.password("alice", "one").hashCode())
        .isEqualTo(Credentials.password("alice", "two").hashCode());
    assertThat(Credentials.password("alice", "secret").toString()).doesNotContain("secret");
  }
}
