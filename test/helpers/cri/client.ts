import {credentials, loadPackageDefinition, type Client, type ServiceError} from '@grpc/grpc-js';
import {loadSync} from '@grpc/proto-loader';
import {fileURLToPath} from 'node:url';

const PROTO = fileURLToPath(new URL('./runtime-v1.proto', import.meta.url));

export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

export interface PortMapping {
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  containerPort: number;
  hostPort: number;
  hostIp?: string;
}

export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt: number;
}

/** runtime.v1.PodSandboxConfig, the fields of it the tests send. */
export interface PodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname: string;
  logDirectory: string;
  portMappings: PortMapping[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  linux: {
    cgroupParent?: string;
    securityContext: {namespaceOptions: {network: NamespaceMode; pid: NamespaceMode; ipc: NamespaceMode}};
  };
}

export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadata;
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
  network: {ip: string; additionalIps: {ip: string}[]} | null;
  labels: Record<string, string>;
}

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxStatus['state'];
  labels: Record<string, string>;
}

export interface VersionResponse {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

/** What kubelet sends for a pod (generatePodSandboxConfig): the subset a network plugin sees the effects of. */
export interface PodSpec {
  name: string;
  namespace: string;
  uid: string;
  attempt?: number;
  /** hostPort mappings of the pod's containers. */
  ports?: PortMapping[];
  /** The parent of kubelet's /var/log/pods: <logRoot>/<namespace>_<name>_<uid>. */
  logRoot: string;
}

/** The sandbox config kubelet builds for `pod`: labels, hostname, log directory, namespaces, ports. */
export function kubeletSandboxConfig(pod: PodSpec): PodSandboxConfig {
  return {
    metadata: {name: pod.name, uid: pod.uid, namespace: pod.namespace, attempt: pod.attempt ?? 0},
    hostname: pod.name,
    logDirectory: `${pod.logRoot}/${pod.namespace}_${pod.name}_${pod.uid}`,
    portMappings: (pod.ports ?? []).map(p => ({protocol: 'TCP', hostIp: '', ...p})),
    labels: {'io.kubernetes.pod.name': pod.name, 'io.kubernetes.pod.namespace': pod.namespace, 'io.kubernetes.pod.uid': pod.uid},
    annotations: {'kubernetes.io/config.source': 'api'},
    // A pod's own network namespace (POD), the pid namespace per container as for v1 pods.
    linux: {securityContext: {namespaceOptions: {network: 'POD', pid: 'CONTAINER', ipc: 'POD'}}},
  };
}

/** A failed CRI call: gRPC's status code name and the runtime's own message. */
export class CriError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly details: string,
  ) {
    super(`CRI ${method} failed (gRPC code ${code}): ${details}`);
    this.name = 'CriError';
  }
}

type Unary = (request: unknown, options: {deadline: Date}, callback: (error: ServiceError | null, response: unknown) => void) => void;

/**
 * A CRI v1 RuntimeService client over the runtime's unix socket, as kubelet talks to containerd
 * (there is no crictl package here). Each call has a deadline, as kubelet's have.
 */
export class CriClient {
  private constructor(private readonly client: Client) {}

  static connect(socket: string): CriClient {
    const definition = loadSync(PROTO, {keepCase: false, longs: String, enums: String, defaults: true, oneofs: true});
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the loaded package is untyped by construction
    const pkg = loadPackageDefinition(definition) as any;
    const Service = pkg.runtime.v1.RuntimeService as new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => Client;
    return new CriClient(new Service(`unix://${socket}`, credentials.createInsecure()));
  }

  private call<T>(method: string, request: unknown, timeoutMs = 120_000): Promise<T> {
    const fn = (this.client as unknown as Record<string, Unary>)[method]!.bind(this.client);
    return new Promise((resolve, reject) => {
      fn(request, {deadline: new Date(Date.now() + timeoutMs)}, (error, response) => {
        if (error) reject(new CriError(method, error.code, error.details));
        else resolve(response as T);
      });
    });
  }

  version(timeoutMs?: number): Promise<VersionResponse> {
    return this.call('Version', {version: 'v1'}, timeoutMs);
  }

  /** The new sandbox's id; `runtimeHandler` names one of the runtime's handlers ('' for its default). */
  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    return (await this.call<{podSandboxId: string}>('RunPodSandbox', {config, runtimeHandler})).podSandboxId;
  }

  /** The status, and with `verbose` the runtime's extra documents (containerd: "info", a JSON with the sandbox's pid). */
  async podSandboxStatus(id: string, verbose = false): Promise<{status: PodSandboxStatus; info: Record<string, string>}> {
    return this.call('PodSandboxStatus', {podSandboxId: id, verbose});
  }

  async stopPodSandbox(id: string): Promise<void> {
    await this.call('StopPodSandbox', {podSandboxId: id});
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.call('RemovePodSandbox', {podSandboxId: id});
  }

  async listPodSandbox(labelSelector: Record<string, string> = {}): Promise<PodSandbox[]> {
    return (await this.call<{items: PodSandbox[]}>('ListPodSandbox', {filter: {labelSelector}})).items;
  }

  close(): void {
    this.client.close();
  }
}
