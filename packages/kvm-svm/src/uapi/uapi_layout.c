/*
 * The KVM SEV uAPI structs, declared from the field lists of docs/spec-notes.md §3 (written
 * here, not copied from the kernel), printed as "struct field offset size" lines so that a test
 * can check the TypeScript codecs against what this machine's C compiler lays out.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct kvm_sev_cmd { uint32_t id; uint32_t pad0; uint64_t data; uint32_t error; uint32_t sev_fd; };
struct kvm_sev_snp_launch_start { uint64_t policy; uint8_t gosvw[16]; uint16_t flags; uint8_t pad0[6]; uint64_t pad1[4]; };
struct kvm_sev_snp_launch_update {
	uint64_t gfn_start; uint64_t uaddr; uint64_t len; uint8_t type; uint8_t pad0; uint16_t flags;
	uint32_t pad1; uint64_t pad2[4];
};
struct kvm_sev_snp_launch_update_v4 {
	uint64_t uaddr; uint32_t len; uint8_t imi_page; uint8_t page_type;
	uint8_t vmpl3_perms; uint8_t vmpl2_perms; uint8_t vmpl1_perms;
};
struct kvm_sev_snp_launch_finish {
	uint64_t id_block_uaddr; uint64_t id_auth_uaddr; uint8_t id_block_en; uint8_t auth_key_en;
	uint8_t vcek_disabled; uint8_t host_data[32]; uint8_t pad0[3]; uint16_t flags; uint64_t pad1[4];
};

#define FIELD(s, f) printf("%s %s %zu %zu\n", #s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f))
#define SIZE(s) printf("%s sizeof %zu %zu\n", #s, sizeof(struct s), sizeof(struct s))

int main(void)
{
	FIELD(kvm_sev_cmd, id); FIELD(kvm_sev_cmd, data); FIELD(kvm_sev_cmd, error); FIELD(kvm_sev_cmd, sev_fd);
	SIZE(kvm_sev_cmd);
	FIELD(kvm_sev_snp_launch_start, policy); FIELD(kvm_sev_snp_launch_start, gosvw);
	FIELD(kvm_sev_snp_launch_start, flags); SIZE(kvm_sev_snp_launch_start);
	FIELD(kvm_sev_snp_launch_update, gfn_start); FIELD(kvm_sev_snp_launch_update, uaddr);
	FIELD(kvm_sev_snp_launch_update, len); FIELD(kvm_sev_snp_launch_update, type);
	FIELD(kvm_sev_snp_launch_update, flags); SIZE(kvm_sev_snp_launch_update);
	FIELD(kvm_sev_snp_launch_update_v4, uaddr); FIELD(kvm_sev_snp_launch_update_v4, len);
	FIELD(kvm_sev_snp_launch_update_v4, imi_page); FIELD(kvm_sev_snp_launch_update_v4, page_type);
	FIELD(kvm_sev_snp_launch_update_v4, vmpl3_perms); FIELD(kvm_sev_snp_launch_update_v4, vmpl2_perms);
	FIELD(kvm_sev_snp_launch_update_v4, vmpl1_perms); SIZE(kvm_sev_snp_launch_update_v4);
	FIELD(kvm_sev_snp_launch_finish, id_block_uaddr); FIELD(kvm_sev_snp_launch_finish, id_auth_uaddr);
	FIELD(kvm_sev_snp_launch_finish, id_block_en); FIELD(kvm_sev_snp_launch_finish, auth_key_en);
	FIELD(kvm_sev_snp_launch_finish, vcek_disabled); FIELD(kvm_sev_snp_launch_finish, host_data);
	FIELD(kvm_sev_snp_launch_finish, flags); SIZE(kvm_sev_snp_launch_finish);
	return 0;
}
