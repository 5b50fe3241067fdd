// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kubernetes identity from cgroup paths as both cgroup drivers name them
 * (containerd, CRI-O, Docker) and from the kubelet's files, laid out here
 * in a directory of the test's own as the kubelet lays them out; Docker
 * and Podman names from their state files, laid out as the engines write
 * them (core/engine.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/engine.h"
#include "core/k8s.h"

#define UID  "0b2f7c7e-1d3a-4f8b-9c2e-5a6b7c8d9e0f"
#define UIDU "0b2f7c7e_1d3a_4f8b_9c2e_5a6b7c8d9e0f"
#define CID  "3f2a9c1b7d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8"

static void test_ids_from_both_drivers_and_every_runtime(void **state)
{
	static const struct {
		const char *path, *uid, *cid;
	} cases[] = {
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU
		 ".slice/cri-containerd-" CID ".scope",
		 UID, CID},
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU
		 ".slice/crio-" CID ".scope",
		 UID, CID},
		{"/kubepods.slice/kubepods-pod" UIDU ".slice/docker-" CID ".scope", UID, CID},
		{"/kubepods/burstable/pod" UID "/" CID, UID, CID},
		{"/kubepods/pod" UID "/" CID, UID, CID},
		/* the pod's own cgroup */
		{"/kubepods/besteffort/pod" UID, UID, ""},
		/* CRI-O's monitor is not a container */
		{"/kubepods.slice/kubepods-pod" UIDU ".slice/crio-conmon-" CID ".scope", UID, ""},
	};
	char uid[LP_K8S_ID], cid[LP_K8S_ID];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (lp_k8s_ids(cases[i].path, uid, sizeof(uid), cid, sizeof(cid)))
			fail_msg("%s: not a pod", cases[i].path);
		assert_string_equal(uid, cases[i].uid);
		assert_string_equal(cid, cases[i].cid);
	}
	assert_int_equal(
		lp_k8s_ids("/system.slice/nginx.service", uid, sizeof(uid), cid, sizeof(cid)),
		-ENOENT);
	assert_int_equal(lp_k8s_ids("/kubepods.slice", uid, sizeof(uid), cid, sizeof(cid)),
			 -ENOENT);
	/* a kubepods a tenant made in its own subtree: not a pod's, whatever it copies */
	assert_int_equal(lp_k8s_ids("/user.slice/user-1000.slice/kubepods/pod" UID "/" CID, uid,
				    sizeof(uid), cid, sizeof(cid)),
			 -ENOENT);
	assert_int_equal(
		lp_k8s_ids("/kubepods/burstable/podX;rm -rf", uid, sizeof(uid), cid, sizeof(cid)),
		-ENOENT);
}

static void test_workload_as_the_pod_name_shows_it(void **state)
{
	char name[LP_K8S_NAME];

	(void)state;
	assert_int_equal(lp_k8s_workload("web-7d9f8b6c5d-x2k4p", name, sizeof(name)),
			 LP_K8S_DEPLOYMENT);
	assert_string_equal(name, "web");
	assert_int_equal(lp_k8s_workload("my-api-server-5c8f7bb9d-qwz7t", name, sizeof(name)),
			 LP_K8S_DEPLOYMENT);
	assert_string_equal(name, "my-api-server");
	assert_int_equal(lp_k8s_workload("db-0", name, sizeof(name)), LP_K8S_STATEFULSET);
	assert_string_equal(name, "db");
	assert_int_equal(lp_k8s_workload("kafka-12", name, sizeof(name)), LP_K8S_STATEFULSET);
	assert_int_equal(lp_k8s_workload("node-exporter-8xq2z", name, sizeof(name)),
			 LP_K8S_DAEMONSET);
	assert_string_equal(name, "node-exporter");
	/* a bare pod: its name shows nothing */
	assert_int_equal(lp_k8s_workload("debug", name, sizeof(name)), LP_K8S_NONE);
	assert_string_equal(name, "");
	assert_int_equal(lp_k8s_workload("tool-box", name, sizeof(name)), LP_K8S_NONE);
	assert_int_equal(lp_k8s_workload("x-01", name, sizeof(name)), LP_K8S_NONE);
}

static void test_kubelet_entries(void **state)
{
	char ns[64], pod[LP_K8S_NAME], c[64];

	(void)state;
	assert_int_equal(lp_k8s_pod_dir("shop_web-7d9f8b6c5d-x2k4p_" UID, UID, ns, sizeof(ns), pod,
					sizeof(pod)),
			 0);
	assert_string_equal(ns, "shop");
	assert_string_equal(pod, "web-7d9f8b6c5d-x2k4p");
	assert_int_equal(
		lp_k8s_pod_dir("shop_web_other-uid", UID, ns, sizeof(ns), pod, sizeof(pod)),
		-ENOENT);
	assert_int_equal(lp_k8s_container_link("web-7d9f8b6c5d-x2k4p_shop_nginx-" CID ".log", CID,
					       c, sizeof(c)),
			 0);
	assert_string_equal(c, "nginx");
	assert_int_equal(lp_k8s_container_link("web_shop_nginx-" CID ".log", "abc", c, sizeof(c)),
			 -ENOENT);
}

static void mk(const char *root, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

/* a node laid out as the kubelet lays it out, under a directory of the test's own */
static void test_resolve_from_the_kubelet_files(void **state)
{
	char root[] = "/tmp/lp-k8s-XXXXXX", link[512], target[512];
	struct lp_k8s *k;

	(void)state;
	assert_non_null(mkdtemp(root));
	mk(root, "/var");
	mk(root, "/var/log");
	mk(root, "/var/log/pods");
	mk(root, "/var/log/containers");
	mk(root, "/var/log/pods/shop_web-7d9f8b6c5d-x2k4p_" UID);
	mk(root, "/var/log/pods/shop_web-7d9f8b6c5d-x2k4p_" UID "/nginx");
	mk(root, "/var/log/pods/shop_web-7d9f8b6c5d-x2k4p_" UID "/sidecar");
	snprintf(link, sizeof(link),
		 "%s/var/log/containers/web-7d9f8b6c5d-x2k4p_shop_nginx-" CID ".log", root);
	snprintf(target, sizeof(target),
		 "/var/log/pods/shop_web-7d9f8b6c5d-x2k4p_" UID "/nginx/0.log");
	assert_int_equal(symlink(target, link), 0);

	k = lp_k8s_resolve(root,
			   "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU
			   ".slice/cri-containerd-" CID ".scope");
	assert_non_null(k);
	assert_string_equal(k->ns, "shop");
	assert_string_equal(k->pod, "web-7d9f8b6c5d-x2k4p");
	assert_string_equal(k->container, "nginx");
	assert_int_equal(k->kind, LP_K8S_DEPLOYMENT);
	assert_string_equal(k->workload, "web");
	lp_k8s_put(k);
	/* the pod's own cgroup: two containers, none named */
	k = lp_k8s_resolve(root, "/kubepods/burstable/pod" UID);
	assert_non_null(k);
	assert_string_equal(k->container, "");
	lp_k8s_put(k);
	/* a pod the kubelet has no files for, and a path that is no pod's */
	assert_null(lp_k8s_resolve(root, "/kubepods/pod11111111-2222-3333-4444-555555555555/" CID));
	assert_null(lp_k8s_resolve(root, "/system.slice/nginx.service"));
	assert_int_equal(unlink(link), 0);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		assert_int_equal(system(cmd), 0);
	}
}

static void test_engine_ids_where_the_engines_put_containers(void **state)
{
	char id[LP_ENGINE_ID];

	(void)state;
	assert_int_equal(lp_engine_id("/system.slice/docker-" CID ".scope", id, sizeof(id)),
			 LP_ENGINE_DOCKER);
	assert_string_equal(id, CID);
	assert_int_equal(lp_engine_id("/docker/" CID, id, sizeof(id)), LP_ENGINE_DOCKER);
	assert_int_equal(lp_engine_id("/machine.slice/libpod-" CID ".scope", id, sizeof(id)),
			 LP_ENGINE_PODMAN);
	assert_int_equal(
		lp_engine_id("/machine.slice/libpod-" CID ".scope/container", id, sizeof(id)),
		LP_ENGINE_PODMAN);
	assert_int_equal(lp_engine_id("/libpod_parent/libpod-" CID, id, sizeof(id)),
			 LP_ENGINE_PODMAN);
	assert_string_equal(id, CID);
	/* not a container: conmon, a unit, a short or upper-case id, a tenant's look-alike */
	assert_int_equal(lp_engine_id("/machine.slice/libpod-conmon-" CID ".scope", id, sizeof(id)),
			 LP_ENGINE_NONE);
	assert_int_equal(lp_engine_id("/system.slice/docker.service", id, sizeof(id)),
			 LP_ENGINE_NONE);
	assert_int_equal(lp_engine_id("/docker/3f2a9c1b7d4e", id, sizeof(id)), LP_ENGINE_NONE);
	assert_int_equal(lp_engine_id("/docker/3F2A9C1B7D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F6071"
				      "8293A4B5C6D7E8",
				      id, sizeof(id)),
			 LP_ENGINE_NONE);
	assert_int_equal(lp_engine_id("/tenant/system.slice/docker-" CID ".scope", id, sizeof(id)),
			 LP_ENGINE_NONE);
	assert_int_equal(lp_engine_id("/user.slice/docker-" CID ".scope", id, sizeof(id)),
			 LP_ENGINE_NONE);
	assert_int_equal(lp_engine_id("/", id, sizeof(id)), LP_ENGINE_NONE);
	assert_int_equal(lp_engine_id("/docker/" CID, id, 64), LP_ENGINE_NONE); /* no room */
}

static void put_file(const char *root, const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* the engines' state laid out as they write it, under a directory of the test's own */
static void test_engine_names_from_their_state_files(void **state)
{
	static const char *const dirs[] = {
		"/var",
		"/var/lib",
		"/var/lib/docker",
		"/var/lib/docker/containers",
		"/var/lib/docker/containers/" CID,
		"/var/lib/containers",
		"/var/lib/containers/storage",
		"/var/lib/containers/storage/vfs-containers",
	};
	char root[] = "/tmp/lp-engine-XXXXXX", name[256], cmd[600];
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(root));
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mk(root, dirs[i]);
	put_file(root, "/var/lib/docker/containers/" CID "/config.v2.json",
		 "{\"ID\":\"" CID "\",\"Name\":\"/shop-web\",\"State\":{}}");
	assert_int_equal(
		lp_engine_name(root, "/system.slice/docker-" CID ".scope", name, sizeof(name)), 0);
	assert_string_equal(name, "shop-web");
	/* Podman: the storage driver's containers.json, the first of its names */
	put_file(root, "/var/lib/containers/storage/vfs-containers/containers.json",
		 "[{\"id\":\"aaaa\",\"names\":[\"other\"]},"
		 "{\"id\":\"" CID "\",\"names\":[\"billing\",\"alias\"],\"layer\":\"x\"}]");
	assert_int_equal(lp_engine_name(root, "/libpod_parent/libpod-" CID, name, sizeof(name)), 0);
	assert_string_equal(name, "billing");
	/* hostile: control bytes and bytes that are not UTF-8 cleaned; not a string: none */
	put_file(root, "/var/lib/docker/containers/" CID "/config.v2.json",
		 "{\"Name\":\"/a\\u0001b\\n\xff\"}");
	assert_int_equal(lp_engine_name(root, "/docker/" CID, name, sizeof(name)), 0);
	for (i = 0; name[i]; i++)
		assert_true((unsigned char)name[i] >= 0x20 && name[i] != 0x7f);
	assert_int_equal(strncmp(name, "a", 1), 0);
	put_file(root, "/var/lib/docker/containers/" CID "/config.v2.json", "{\"Name\":42}");
	assert_int_equal(lp_engine_name(root, "/docker/" CID, name, sizeof(name)), -ENOENT);
	put_file(root, "/var/lib/docker/containers/" CID "/config.v2.json", "{\"Name\":\"/");
	assert_int_equal(lp_engine_name(root, "/docker/" CID, name, sizeof(name)), -ENOENT);
	/* a container the engine has no state for, and a path that is no container's */
	assert_int_equal(
		lp_engine_name(root, "/machine.slice/libpod-" CID "x.scope", name, sizeof(name)),
		-ENOENT);
	assert_int_equal(lp_engine_name(root, "/system.slice/nginx.service", name, sizeof(name)),
			 -ENOENT);
	put_file(root, "/var/lib/containers/storage/vfs-containers/containers.json", "[]");
	assert_int_equal(lp_engine_name(root, "/libpod_parent/libpod-" CID, name, sizeof(name)),
			 -ENOENT);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids_from_both_drivers_and_every_runtime),
		cmocka_unit_test(test_workload_as_the_pod_name_shows_it),
		cmocka_unit_test(test_kubelet_entries),
		cmocka_unit_test(test_resolve_from_the_kubelet_files),
		cmocka_unit_test(test_engine_ids_where_the_engines_put_containers),
		cmocka_unit_test(test_engine_names_from_their_state_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
