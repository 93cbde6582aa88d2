package audit

// State is the audit's view of one host, normalised so that controls can compare values
// without caring how they were spelled. The JSON names of its fields are the
// names that the JSONPath expressions of the controls use, such as $.daemon.icc.
type State struct {
	Daemon      Daemon          `json:"daemon"`
	DockerGroup Group           `json:"docker_group"`
	Files       map[string]File `json:"files"`
	Containers  []Container     `json:"containers"`
}

// Daemon is the effective configuration of the running Docker daemon. Values that
// docker info reports come from the running daemon. The others come from dockerd's
// command line and its configuration file, with dockerd's defaults where neither sets
// them.
type Daemon struct {
	Version     string         `json:"version"`
	CommandLine []string       `json:"command_line"` // arguments of the running dockerd
	ConfigFile  string         `json:"config_file"`
	Config      map[string]any `json:"config"`       // the configuration file; {} when absent
	ConfigError string         `json:"config_error"` // error reading or parsing the file

	// Hosts are the addresses the API is served on: -H, --host and "hosts", with fd://
	// replaced by what docker.socket listens on, written as unix://PATH or tcp://ADDR.
	Hosts []string `json:"hosts"`
	// TCPEndpoints are the TCP addresses of Hosts and those dockerd listens on.
	TCPEndpoints []string `json:"tcp_endpoints"`
	TLS          bool     `json:"tls"`
	TLSVerify    bool     `json:"tls_verify"`

	LogDriver string            `json:"log_driver"`
	LogOpts   map[string]string `json:"log_opts"`

	NoNewPrivileges bool `json:"no_new_privileges"`
	LiveRestore     bool `json:"live_restore"`
	UserlandProxy   bool `json:"userland_proxy"`
	// ICC is whether containers on the default bridge reach each other, read from the
	// bridge network's options when the daemon reports them.
	ICC bool `json:"icc"`

	InsecureRegistryCIDRs []string   `json:"insecure_registry_cidrs"`
	Registries            []Registry `json:"registries"`

	// SeccompProfile is "default", "unconfined", a custom profile's path, or "" when
	// the daemon runs without seccomp.
	SeccompProfile  string   `json:"seccomp_profile"`
	AppArmor        bool     `json:"apparmor"`
	SELinux         bool     `json:"selinux"`
	UserNamespaces  bool     `json:"userns"`
	Rootless        bool     `json:"rootless"`
	SecurityOptions []string `json:"security_options"` // as docker info lists them
	Experimental    bool     `json:"experimental"`
}

// Registry is one registry of docker info's IndexConfigs.
type Registry struct {
	Name    string   `json:"name"`
	Secure  bool     `json:"secure"`
	Mirrors []string `json:"mirrors"`
}

// Group is the docker group: its members may use the Docker socket.
type Group struct {
	Exists bool `json:"exists"`
	// Members are the users listed in the group and those whose primary group it is,
	// sorted.
	Members []string `json:"members"`
}

// File is the ownership and mode of one file that Docker reads. Symbolic links are
// followed.
type File struct {
	Path   string `json:"path"`
	Exists bool   `json:"exists"`
	Owner  string `json:"owner,omitempty"`
	Group  string `json:"group,omitempty"`
	Mode   string `json:"mode,omitempty"` // octal with a leading zero, such as "0644"
	Type   string `json:"type,omitempty"` // as stat prints it, such as "regular file"
}

// The keys of State.Files.
const (
	FileDaemonJSON         = "daemon_json"
	FileDockerSocket       = "docker_socket"
	FileDockerService      = "docker_service"
	FileDockerSocketUnit   = "docker_socket_unit"
	FileEtcDocker          = "etc_docker"
	FileEtcDefaultDocker   = "etc_default_docker"
	FileEtcSysconfigDocker = "etc_sysconfig_docker"
)

// Container is the security-relevant configuration of one running container.
type Container struct {
	Name  string `json:"name"`
	ID    string `json:"id"` // the first 12 hexadecimal digits
	Image string `json:"image"`

	Privileged bool     `json:"privileged"`
	CapAdd     []string `json:"cap_add"`  // upper case without CAP_, sorted
	CapDrop    []string `json:"cap_drop"` // upper case without CAP_, sorted
	// NoNewPrivileges is the container's own no-new-privileges option, or nil when it
	// has none and the daemon's default applies.
	NoNewPrivileges *bool `json:"no_new_privileges"`
	// SeccompProfile is "default", "unconfined" or "custom".
	SeccompProfile  string   `json:"seccomp_profile"`
	AppArmorProfile string   `json:"apparmor_profile"`
	SecurityOpt     []string `json:"security_opt"` // as docker inspect lists them

	NetworkMode string `json:"network_mode"`
	PIDMode     string `json:"pid_mode"`
	IPCMode     string `json:"ipc_mode"`
	UTSMode     string `json:"uts_mode"`
	UsernsMode  string `json:"userns_mode"`

	Mounts         []Mount `json:"mounts"`
	ReadOnlyRootfs bool    `json:"read_only_rootfs"`
	Memory         int64   `json:"memory"`     // bytes; 0 is no limit
	PidsLimit      int64   `json:"pids_limit"` // 0 is no limit
}

// Mount is one mount of a container.
type Mount struct {
	Type        string `json:"type"` // bind, volume or tmpfs
	Source      string `json:"source"`
	Destination string `json:"destination"`
	RW          bool   `json:"rw"`
	// DockerSocket is whether the mount exposes a socket of the daemon: the source is
	// the socket or a directory that holds it.
	DockerSocket bool `json:"docker_socket"`
}
